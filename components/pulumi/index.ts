/** The Pulumi components: each turns part of a plan into resources that run host scripts over SSH. */
export { NetmapHost, type NetmapHostArgs } from "./netmap-host";
export { NetmapKernel, buildArgs, loadArgs, type NetmapKernelArgs } from "./netmap-kernel";
export { PtnetQemu, type PtnetQemuArgs } from "./ptnet-qemu";
export { GuestImage, type GuestImageArgs } from "./guest-image";
export { ValeSwitch, type ValeSwitchArgs } from "./vale-switch";
export { NetmapPipe, type NetmapPipeArgs } from "./netmap-pipe";
export { PtnetVm, type PtnetVmArgs } from "./ptnet-vm";
export { LocalLabHost, type LocalLabHostArgs } from "./local-lab-host";
export { Testbed, publicKeyOf, type HostSummary, type TestbedArgs, type TestbedCredentials } from "./testbed";
export { RemoteStep, type RemoteStepArgs, type RemoteStepKind } from "./remote-step";
export { LocalStep, type LocalStepArgs, type LocalStepKind } from "./local-step";
export { assertRunnerBuilt } from "./provider-runtime";
export type { RemoteStepInputs, RemoteStepOutputs, StepCommand, StepConnection } from "./step-types";
export { HOST_SCRIPTS_DIR, scriptBundle } from "./script-bundle";
