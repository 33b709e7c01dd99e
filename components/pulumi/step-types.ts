/**
 * The data a remote step carries through Pulumi: plain, JSON-serialisable values, because they
 * are stored in the stack's state and handed to the dynamic provider in another process.
 */

/** How to reach a host. `privateKey` and `password` arrive as Pulumi secrets and stay secret in state. */
export interface StepConnection {
  /** Topology name of the host, used in messages. */
  readonly host: string;
  readonly address: string;
  /** Defaults to 22. */
  readonly port: number;
  /** Defaults to root; any other user runs every step through `sudo -n`. */
  readonly user: string;
  /** The pinned OpenSSH public host key line; connections to any other key are refused. */
  readonly hostKey: string;
  readonly privateKey?: string;
  /** Passphrase of an encrypted `privateKey`. */
  readonly passphrase?: string;
  readonly password?: string;
  /** ssh-agent socket path on the controller, used instead of a key. */
  readonly agentSocket?: string;
}

/** One command: an argv run without a shell on the controller side, quoted for the remote shell. */
export interface StepCommand {
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Sent on the command's standard input. */
  readonly stdin?: string;
  /**
   * The hash of this package's host-script bundle (script-bundle.ts), which the runner packs and
   * sends (base64) on standard input instead of `stdin`. The stack's state then holds 16 hex
   * digits per host rather than the bundle itself: the engine writes the whole state after every
   * step, and 120 KB of scripts per host made that grow with the square of the testbed.
   */
  readonly scriptBundle?: string;
  /** Seconds before the command is abandoned; defaults to 3600. */
  readonly timeoutSec?: number;
}

/**
 * Reuse of a step's artifacts across identical hosts (docs/kernel-builds.md, "Reuse across
 * hosts"). Steps with the same `key` in one deployment produce identical artifacts; the first one
 * runs its create, the others receive its artifacts through the controller instead.
 */
export interface StepShare {
  /** Equal keys mean interchangeable artifacts (for a netmap build: the build key). */
  readonly key: string;
  /**
   * Changes nothing: exits 0 and prints the create result when the host already has the
   * artifacts; any other exit means it has not. A host that has them neither waits nor imports.
   */
  readonly check: StepCommand;
  /** Run on a host that has the artifacts: prints them as one archive (bytes) on stdout. */
  readonly export: StepCommand;
  /** Run on a host that has not: reads export's archive on stdin, prints the create result. */
  readonly import: StepCommand;
  /**
   * Controller directory keeping archives across deployments (`<key>.tgz`), so a later deploy to
   * a new identical host imports too. Absent: archives live in memory for one deployment only.
   */
  readonly cacheDir?: string;
}

/**
 * A file on the controller that a step's create needs on the host (a topology's controller
 * source): copied over SFTP, as the SSH user, to `remotePath` just before create runs; create
 * takes it from there (and removes it). Not part of the diff: where the file lies on the
 * controller may change between runs, its `sha256` (in the step's triggers) is what matters.
 */
export interface StepUpload {
  readonly localPath: string;
  readonly sha256: string;
  readonly remotePath: string;
  /** Changes nothing; exits 0 when the host already has what create makes of the file: no upload then. */
  readonly skipIf: StepCommand;
}

/** What every step, on a host or on the controller, is: commands and what it stands on. */
export interface StepDefinition {
  /** Step name for messages and log prefixes, e.g. "netmap-build". */
  readonly step: string;
  readonly create: StepCommand;
  /** Run on destroy (and before a replacement is created); absent = nothing to undo. */
  readonly delete?: StepCommand;
  /**
   * Run on `pulumi refresh`: prints the live state as JSON. `"present": false` is drift: the step
   * stays in the state with the live state as its `drift` output, and the next `pulumi up` runs
   * create again to repair it. Only `"gone": true` (nothing of it is left) drops the step from
   * the state.
   */
  readonly read?: StepCommand;
  /** Any change here replaces the step: its delete runs, then its create. */
  readonly triggers: readonly string[];
  /**
   * The `instance` outputs of the steps this one stands on (a property dependency): when one of
   * them is replaced, the engine replaces this step too, deleting it first.
   */
  readonly builtOn: readonly string[];
}

/** What a step's create and refreshes add to its inputs in the state. */
export interface StepState {
  /** The JSON object the create command printed last on stdout. */
  readonly result: Readonly<Record<string, unknown>>;
  /** New on every create, kept by updates: what dependents put in their `builtOn`. */
  readonly instance: string;
  /** What the last refresh read when the live state had drifted; absent when it matched. */
  readonly drift?: Readonly<Record<string, unknown>>;
}

export interface RemoteStepInputs extends StepDefinition {
  readonly connection: StepConnection;
  /** Digest of the host scripts the commands run: a change re-runs create (scripts are idempotent). */
  readonly scriptsDigest: string;
  /** Reuse the create's artifacts across identical hosts; not part of the diff (see StepShare). */
  readonly share?: StepShare;
  /** Sent to the host before create runs; not part of the diff (see StepUpload). */
  readonly upload?: StepUpload;
}

export interface RemoteStepOutputs extends RemoteStepInputs, StepState {}
