/** CPU lists as the Linux kernel writes them ("2-5,8"), or YAML lists of CPU numbers. */

/** The highest CPU number accepted (Linux's NR_CPUS maximum is 8192). */
export const CPU_MAX = 8191;

/** Parses "2-5,8" into [2, 3, 4, 5, 8]; returns a message for anything else. */
export function parseCpuList(text: string): number[] | string {
  const cpus: number[] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) return `CPU list "${text}" must look like "2-5,8" (numbers and ranges separated by commas)`;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) return `CPU range "${part.trim()}" runs backwards; write it as ${last}-${first}`;
    if (last > CPU_MAX) return `CPU ${last} is beyond the largest CPU number ${CPU_MAX}`;
    for (let cpu = first; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** Formats [2, 3, 4, 8] as "2-4,8". */
export function formatCpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < cpus.length) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(j === i ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** pkt-gen -a N pins thread i to CPU N+i, so a pin list must be a run of consecutive CPUs. */
export function isConsecutive(cpus: readonly number[]): boolean {
  return cpus.every((cpu, i) => i === 0 || cpu === cpus[i - 1] + 1);
}
