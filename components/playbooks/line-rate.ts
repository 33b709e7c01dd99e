/**
 * Theoretical Ethernet line rate. On the wire every frame also carries its 4-byte CRC, an 8-byte
 * preamble + start-of-frame delimiter and a 12-byte inter-frame gap: 24 bytes beyond what pkt-gen's
 * `-l` counts. So 60-byte frames (64 B with CRC) move at 10e9 / ((60 + 24) * 8) = 14.88 Mpps on 10 GbE.
 */

/** CRC (4) + preamble and SFD (8) + inter-frame gap (12), in bytes. */
export const WIRE_OVERHEAD_BYTES = 24;

/** Packets per second at line rate for frames of `frameBytes` (without CRC) on a `gbps` link. */
export function lineRatePps(frameBytes: number, gbps = 10): number {
  return (gbps * 1e9) / ((frameBytes + WIRE_OVERHEAD_BYTES) * 8);
}

/** Line rate in Mpps. */
export function lineRateMpps(frameBytes: number, gbps = 10): number {
  return lineRatePps(frameBytes, gbps) / 1e6;
}

/** The line-rate curve as points (size, Mpps) for the sizes given, for plots. */
export function lineRateCurve(sizes: readonly number[], gbps = 10): { size: number; mpps: number }[] {
  return sizes.map((size) => ({ size, mpps: lineRateMpps(size, gbps) }));
}
