/**
 * `netmap-testbed status`: read back what is really on each host (kernel-builds/host/status.sh
 * over one SSH connection per host) and compare it with the plan. See docs/status.md.
 */
export * from "./types";
export { HostStatusParseError, observeVale, parseHostStatus } from "./parse";
export {
  computeDrift,
  driverModuleName,
  expectedValeNames,
  firstArgvDifference,
  normalizeArgv,
  paramMatches,
} from "./drift";
export { readHostStatus, statusScriptArgs, statusScriptPath, type ReadHostStatusOptions } from "./read";
export {
  hostIsClean,
  renderStatusText,
  statusExitCode,
  statusToJson,
  summarizeObserved,
  type HostStatusReport,
  type StatusReportJson,
} from "./render";
