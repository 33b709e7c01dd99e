/** Sizes with units (memory, disk). Binary units only: QEMU's -m and qemu-img take MiB/GiB. */

const SIZE = /^(\d+)\s*(MiB|GiB|M|G)$/;

/** Size in MiB, or undefined if `text` is not `<integer><MiB|GiB|M|G>`. M and G mean MiB and GiB. */
export function parseMiB(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const mib = match[2].startsWith("G") ? amount * 1024 : amount;
  return Number.isSafeInteger(mib) ? mib : undefined;
}

export function sizeHint(field: string): string {
  return `write ${field} as an integer with a unit: MiB or GiB (M and G mean the same), e.g. 2GiB or 512MiB`;
}
