/**
 * The Pulumi program behind every stack: reads the stack's topology file and deploys it.
 * `pulumi up` builds and loads netmap, builds the ptnet QEMU, creates VALE switches and pipes and
 * boots the VMs; `pulumi destroy` undoes all of it in reverse order.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Testbed, assertRunnerBuilt, loadTopology } from "../components";

// Fail before anything is created, not in the provider process halfway through a deployment.
assertRunnerBuilt();

const config = new pulumi.Config();
const projectRoot = path.resolve(__dirname, "..");
const topologyFile = path.resolve(projectRoot, config.require("topology"));

const testbed = new Testbed(pulumi.getStack(), {
  topology: loadTopology(topologyFile),
  credentials: {
    privateKey: config.getSecret("sshPrivateKey"),
    passphrase: config.getSecret("sshPrivateKeyPassphrase"),
    agentSocket: config.get("sshAgentSocket"),
    guestAuthorizedKey: config.get("guestAuthorizedKey"),
  },
  keepBuildCache: config.getBoolean("keepBuildCache") ?? true,
});

/** Per host: where it is reached and what its kernel build produced. */
export const hosts = testbed.hostSummaries;
/** Per VM: the guest's SSH endpoint (through its host). */
export const vms = testbed.vmEndpoints;
/** netmap's and QEMU's sources, with the commit a branch or tag was resolved to for this deployment. */
export const sources = testbed.sources;
