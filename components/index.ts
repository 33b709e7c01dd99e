/**
 * netmap-testbed: Pulumi components, the topology model and planner, and the ssh2 host session
 * for netmap/ptnetmap NFV testbeds. See README.md and docs/components.md.
 */
export * from "./topology";
export * from "./plan";
export * from "./parsers";
export * from "./status";
export {
  HostSession,
  HostSessionPool,
  HostConnectionError,
  HostStepError,
  type HostCredentials,
  type HostSessionOptions,
  type RunOptions,
  type RunResult,
} from "./host";
export * from "./pulumi";
