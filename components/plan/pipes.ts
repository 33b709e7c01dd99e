/** netmap pipes: `NAME{ID` is the master end, `NAME}ID` the slave end; both share NAME's memory region. */
import type { PipeSpec, VmSpec } from "../topology/model";
import type { PipeEndPlan, PipePlan } from "./types";

export function pipePortName(pipe: string, id: number, end: "master" | "slave"): string {
  return `netmap:${pipe}${end === "master" ? "{" : "}"}${id}`;
}

/** The ends of one pipe that the host's VMs use, in VM order then NIC order. */
export function planPipe(spec: PipeSpec, vms: readonly VmSpec[]): PipePlan {
  const ends: PipeEndPlan[] = [];
  for (const vm of vms) {
    for (const nic of vm.nics) {
      if (nic.kind === "pipe" && nic.pipe === spec.name) {
        ends.push({
          vm: vm.name,
          id: nic.id,
          end: nic.end,
          portName: pipePortName(nic.pipe, nic.id, nic.end),
        });
      }
    }
  }
  return { name: spec.name, ends };
}
