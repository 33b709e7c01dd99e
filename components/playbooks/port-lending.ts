/**
 * Persistent VALE ports lent to pkt-gen for a playbook (see LentPort in resolve.ts): removed with
 * the deployment's own script before the first measurement, put back as they were after the
 * last one, also when a measurement failed or the run was interrupted.
 */
import { HOST_SCRIPTS_DIR } from "../pulumi/script-bundle";
import type { Machine } from "./machines";
import type { LentPort } from "./resolve";

const VALE_PORT_SCRIPT = `${HOST_SCRIPTS_DIR}/kernel-builds/vale/vale-port.sh`;

export interface Lending {
  readonly port: LentPort;
  readonly machine: Machine;
}

function portArgs(port: LentPort): string[] {
  return ["--switch", port.switch, "--port", port.port];
}

/** The distinct ports of a playbook's endpoints, in the order first used. */
export function portsToLend(ports: readonly (LentPort | undefined)[]): LentPort[] {
  const seen = new Map<string, LentPort>();
  for (const port of ports) {
    if (!port) continue;
    const key = `${port.host}/${port.switch}:${port.port}`;
    if (!seen.has(key)) seen.set(key, port);
  }
  return [...seen.values()];
}

async function vale(machine: Machine, step: string, args: readonly string[]): Promise<void> {
  const result = await machine.session.run(step, ["bash", VALE_PORT_SCRIPT, ...args], {
    timeoutMs: 60_000,
    // The deployment's script changes netmap state: root (sudo unless the user is root).
    sudo: true,
  });
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${machine.name}: ${step} failed (exit ${String(result.code)}): ${tail}`);
  }
}

/**
 * Removes each port (detach, delete: vale-port.sh remove) before pkt-gen opens it. A port that
 * cannot be removed stops the playbook before anything is measured; the ones already lent are
 * returned by the caller's returnPorts.
 */
export async function lendPorts(
  lendings: readonly Lending[],
  progress: (line: string) => void,
  lent: Lending[],
): Promise<void> {
  for (const lending of lendings) {
    const { port, machine } = lending;
    progress(
      `${machine.name}: lending persistent port ${port.switch}:${port.port} to pkt-gen (netmap renames a persistent port a program opens); it is put back afterwards`,
    );
    await vale(machine, `lend ${port.switch}:${port.port}`, ["remove", ...portArgs(port)]);
    lent.push(lending);
  }
}

/** Puts every lent port back as the deployment made it (vale-port.sh apply, same geometry). */
export async function returnPorts(lent: readonly Lending[], log: (line: string) => void): Promise<void> {
  for (const { port, machine } of lent) {
    const geometry = [
      ...(port.rings !== undefined ? ["--rings", String(port.rings)] : []),
      ...(port.slots !== undefined ? ["--slots", String(port.slots)] : []),
    ];
    try {
      await vale(machine, `return ${port.switch}:${port.port}`, ["apply", ...portArgs(port), ...geometry]);
    } catch (error) {
      log(`putting ${port.switch}:${port.port} back: ${String(error)}; \`pulumi up\` recreates it`);
    }
  }
}
