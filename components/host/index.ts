/**
 * The ssh2 host session: one connection per host, capped channels, pinned host keys,
 * argv-only commands. See docs/ssh.md.
 */
export {
  HostSession,
  type HostCredentials,
  type HostSessionOptions,
  type OutputHandler,
  type OutputStream,
  type RunOptions,
  type RunResult,
} from "./session";
export { HostSessionPool, type HostSessionDefaults } from "./pool";
export {
  HostConnectionError,
  HostStepError,
  describeStepFailure,
  type HostConnectionFailure,
  type HostStepFailure,
} from "./errors";
export {
  HostKeyFormatError,
  describeKey,
  hostKeyAlgorithmsFor,
  parseOpenSshPublicKey,
  sha256Fingerprint,
  type OpenSshPublicKey,
} from "./host-key";
export {
  CommandValidationError,
  ENV_NAME,
  buildRemoteCommand,
  shellQuote,
  validateArgv,
  validateEnv,
  type RemoteCommandOptions,
} from "./shell-quote";
export { REDACTED, SecretScrubber } from "./secrets";
export { DEFAULT_MAX_OUTPUT_BYTES, formatOutputTail, truncationMarker } from "./output";
export { ChannelLimiter } from "./limiter";
