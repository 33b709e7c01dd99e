/** The planner: pure functions from the validated topology model to what must exist on each host. */
export * from "./types";
export { canonicalJson, configKey, SHORT_HASH_LENGTH, type Canonicalizable } from "./canonical-hash";
export {
  configureDriverName,
  EXTERNAL_DRIVERS,
  IN_TREE_DRIVERS,
  INTEL_OUT_OF_TREE_DRIVERS,
  isExternalDriver,
  isInTreeDriver,
  kernelSeries,
  KNOWN_GOOD_DRIVER_VERSIONS,
  KNOWN_GOOD_EVIDENCE,
  knownGoodVersionsOf,
  resolveDriverVersions,
  type DriverVersionSource,
  type ResolvedDriverVersions,
} from "./driver-versions";
export {
  netmapBuildKey,
  netmapConfigKey,
  netmapConfigureArgs,
  netmapConfigureOptions,
  planGuestNetmapBuild,
  planNetmapBuild,
  type NetmapConfigKeyInput,
  type NetmapConfigureHost,
} from "./netmap-build";
export {
  planQemuBuild,
  QEMU_CONFIGURE_OPTIONS,
  qemuBuildKey,
  qemuConfigKey,
  qemuConfigureArgs,
  qemuPrefix,
  type QemuConfigKeyInput,
} from "./qemu-build";
export { planSwitch, planValePort, planValeUplink, valeGeometryArgs, valePortName } from "./vale";
export { pipePortName, planPipe } from "./pipes";
export {
  argvForAccel,
  hugepagesMountPath,
  planVm,
  planVmNic,
  qemuArgv,
  SSH_FORWARD_PORT_BASE,
  vcpuPinMap,
  vmPaths,
  type PlanVmInput,
  type QemuArgvInput,
  type VcpuPin,
  type VmAccel,
} from "./vm";
export { planHostSteps, stepId, topologicalOrder, type HostStepsInput } from "./steps";
export { planNetmapLoad, planTestbed } from "./plan-testbed";
export { renderPlanTree } from "./render-tree";
export { planToJson, type HostJson, type JsonValue, type PlanJson, type VmJson } from "./plan-json";
export { shellQuote, shellQuoteArgv } from "./shell-quote";
