/**
 * Reference numbers of "Virtual device passthrough for high speed VM networking" (Garzarella,
 * Lettieri, Rizzo; ANCS 2015) for 60-byte frames (64 B with CRC), as the paper states them: a VM
 * drives a 10 GbE NIC at line rate, untrusted VMs exchange more than 20 Mpps through a VALE switch,
 * trusted VMs more than 70 Mpps through netmap pipes. The rates for other sizes are not restated
 * here; plots draw these points so a measured curve can be compared at 60 B.
 */
import { lineRateMpps } from "./line-rate";
import type { PaperFigure } from "./model";

export interface PaperReference {
  readonly figure: PaperFigure;
  readonly size: number;
  readonly mpps: number;
  /** True when the paper gives a lower bound ("more than"). */
  readonly atLeast: boolean;
  readonly label: string;
}

export const PAPER_REFERENCES: Readonly<Record<PaperFigure, PaperReference>> = {
  "vm-nic": {
    figure: "vm-nic",
    size: 60,
    mpps: Math.round(lineRateMpps(60) * 100) / 100,
    atLeast: false,
    label: "paper: VM↔NIC at 10 GbE line rate",
  },
  "vm-vm-vale": {
    figure: "vm-vm-vale",
    size: 60,
    mpps: 20,
    atLeast: true,
    label: "paper: VM↔VM over VALE > 20 Mpps",
  },
  "vm-vm-pipe": {
    figure: "vm-vm-pipe",
    size: 60,
    mpps: 70,
    atLeast: true,
    label: "paper: VM↔VM over pipes > 70 Mpps",
  },
};
