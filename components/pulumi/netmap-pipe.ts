import * as pulumi from "@pulumi/pulumi";
import { planPipe } from "../plan";
import type { PipeSpec, VmSpec } from "../topology/model";

export interface NetmapPipeArgs {
  /** The pipe (the topology's `pipes:` entry). */
  spec: PipeSpec;
  /** The VMs of the pipe's host: the ends they use are allocated here. */
  vms: readonly VmSpec[];
}

/**
 * A netmap pipe. Pipes need no host action: netmap creates both ends when a port opens
 * `netmap:NAME{N` or `netmap:NAME}N` and removes them when the last user closes, so the pipe's
 * life follows the VMs that hold it. This component records which VM holds which end.
 */
export class NetmapPipe extends pulumi.ComponentResource {
  /** End port names by VM name, e.g. { vm1: "netmap:chain0{1" }. */
  public readonly ends: Record<string, string[]> = {};

  constructor(name: string, args: NetmapPipeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:NetmapPipe", name, {}, opts);
    for (const end of planPipe(args.spec, args.vms).ends) {
      (this.ends[end.vm] ??= []).push(end.portName);
    }
    this.registerOutputs({ ends: this.ends });
  }
}
