import * as fs from "node:fs";

/**
 * The ssh-agent named by SSH_AUTH_SOCK, when that names a socket that exists. A stale variable
 * (the agent of a closed login) is treated as no agent, and said so, instead of letting every
 * connection attempt fail later as if the hosts were unreachable.
 */
export function sshAgent(env: NodeJS.ProcessEnv): { readonly socket?: string; readonly note?: string } {
  const socket = env.SSH_AUTH_SOCK;
  if (socket === undefined || socket === "") return {};
  try {
    if (fs.statSync(socket).isSocket()) return { socket };
  } catch {
    // Falls through: the variable names nothing.
  }
  return { note: `SSH_AUTH_SOCK=${socket} is not a socket (a stale agent?)` };
}

/** The one-line "no credentials" error, with every way to give them. */
export function noCredentialsMessage(subject: string, agentNote: string | undefined): string {
  return (
    `no SSH credentials${subject}: give --identity FILE (a private key the hosts accept), ` +
    `or start an ssh-agent holding it and export SSH_AUTH_SOCK${agentNote ? ` (${agentNote})` : ""}`
  );
}
