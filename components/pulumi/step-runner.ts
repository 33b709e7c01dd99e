/**
 * Runs remote steps over ssh2 with pinned host keys. This module is what the dynamic provider
 * loads (from the compiled package) in Pulumi's provider process, and what the end-to-end tests
 * call directly: the same code either way.
 */
import { HostSession } from "../host";
import type { RemoteStepInputs, RemoteStepOutputs, StepCommand, StepConnection } from "./step-types";

const DEFAULT_TIMEOUT_SEC = 3600;

const sessions = new Map<string, HostSession>();

function sessionKey(connection: StepConnection): string {
  return JSON.stringify([
    connection.host,
    connection.address,
    connection.port,
    connection.user,
    connection.hostKey,
  ]);
}

/** One connection per host for the whole provider process; steps share it through channels. */
export function sessionFor(connection: StepConnection): HostSession {
  const key = sessionKey(connection);
  let session = sessions.get(key);
  if (!session) {
    session = new HostSession({
      name: connection.host,
      address: connection.address,
      port: connection.port,
      user: connection.user,
      hostKey: connection.hostKey,
      credentials: {
        privateKey: connection.privateKey,
        password: connection.password,
        agent: connection.agentSocket,
      },
    });
    sessions.set(key, session);
  }
  return session;
}

/** Closes every pooled connection (tests; the provider process simply exits). */
export async function closeStepSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map((session) => session.close()));
}

/**
 * The last line of stdout that parses as a JSON object: scripts print progress on stderr and
 * exactly one JSON object on stdout, but tools they call may print before it.
 */
export function lastJsonObject(stdout: string): Record<string, unknown> {
  const lines = stdout.split("\n").map((line) => line.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (!line.startsWith("{")) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === "object" && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // not JSON: keep looking upwards
    }
  }
  return {};
}

export async function runStepCommand(
  connection: StepConnection,
  step: string,
  command: StepCommand,
): Promise<Record<string, unknown>> {
  const result = await sessionFor(connection).runChecked(step, [...command.argv], {
    env: command.env ? { ...command.env } : undefined,
    stdin: command.stdin,
    sudo: connection.user !== "root",
    timeoutMs: (command.timeoutSec ?? DEFAULT_TIMEOUT_SEC) * 1000,
  });
  return lastJsonObject(result.stdout);
}

function stepId(inputs: RemoteStepInputs): string {
  return `${inputs.connection.host}/${inputs.step}`;
}

export async function createStep(inputs: RemoteStepInputs): Promise<{ id: string; outs: RemoteStepOutputs }> {
  const result = await runStepCommand(inputs.connection, inputs.step, inputs.create);
  return { id: stepId(inputs), outs: { ...inputs, result } };
}

export async function deleteStep(props: RemoteStepOutputs): Promise<void> {
  if (props.delete) await runStepCommand(props.connection, `${props.step} (delete)`, props.delete);
}

/**
 * A changed create or delete command re-runs create (scripts are idempotent); a changed
 * trigger or a different host replaces the step, deleting the old one first, because two copies
 * of a host-side thing (a loaded module, a VM) cannot coexist.
 */
export function diffStep(
  olds: RemoteStepOutputs,
  news: RemoteStepInputs,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces: string[] = [];
  if (JSON.stringify(olds.triggers) !== JSON.stringify(news.triggers)) replaces.push("triggers");
  const oldTarget = [olds.connection.address, olds.connection.port, olds.connection.host];
  const newTarget = [news.connection.address, news.connection.port, news.connection.host];
  if (JSON.stringify(oldTarget) !== JSON.stringify(newTarget)) replaces.push("connection");
  const changed = (["create", "delete", "read", "connection", "step"] as const).some(
    (key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]),
  );
  return { changes: changed || replaces.length > 0, replaces, deleteBeforeReplace: true };
}

export async function updateStep(
  _olds: RemoteStepOutputs,
  news: RemoteStepInputs,
): Promise<{ outs: RemoteStepOutputs }> {
  const result = await runStepCommand(news.connection, news.step, news.create);
  return { outs: { ...news, result } };
}

/** Refresh: the live state, or no id when the thing is gone (Pulumi then shows it as deleted). */
export async function readStep(
  id: string,
  props: RemoteStepOutputs,
): Promise<{ id?: string; props?: RemoteStepOutputs }> {
  if (!props.read) return { id, props };
  const live = await runStepCommand(props.connection, `${props.step} (read)`, props.read);
  if (live.present === false) return {};
  return { id, props: { ...props, result: { ...props.result, live } } };
}
