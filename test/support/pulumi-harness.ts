/**
 * Runs Pulumi program code under `pulumi.runtime.setMocks` and records what the program
 * registered: type, name, parent, dependencies and secret outputs of every resource, plus when
 * each resource's creation started and finished. The SDK orders creation by dependencies, so
 * the timestamps show the order a real `pulumi up` would use.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parent: string;
  readonly dependencies: readonly string[];
  /**
   * Per input, the resources its value came from: the dependencies along which the engine
   * cascades a replacement (a plain `dependsOn` is not among them).
   */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly additionalSecretOutputs: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly custom: boolean;
  /** Inputs as the mock monitor saw them (secrets unwrapped). */
  inputs: Record<string, unknown>;
  /** Raw serialized inputs, where secrets are still wrapped (`4dabf18193072939515e22adb298388d` sig). */
  readonly rawInputs: Record<string, unknown>;
  startedAt: number;
  finishedAt: number;
  order: number;
}

export type NewResource = (
  args: pulumi.runtime.MockResourceArgs,
) => Promise<pulumi.runtime.MockResourceResult>;

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getAdditionalsecretoutputsList(): string[];
  getDeletebeforereplace(): boolean;
  getCustom(): boolean;
  getObject(): { toJavaScript(): Record<string, unknown> };
}

type RegisterCallback = (error: unknown, response: unknown) => void;

interface MockMonitor {
  registerResource(req: RegisterRequest, callback: RegisterCallback): Promise<void>;
}

// The SDK's internal "wait until every outstanding RPC is done"; the CLI does the same at exit.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** Echoes inputs as outputs with a fake id: the default when a test only looks at wiring. */
export const echoResource: NewResource = async (args) => ({ id: `${args.name}-id`, state: args.inputs });

function propertyDependenciesOf(req: RegisterRequest): Record<string, string[]> {
  const byInput: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((value, key) => (byInput[key] = value.getUrnsList()));
  return byInput;
}

/**
 * Sets mocks, runs `program`, waits for every registration and returns the recorded resources
 * in registration order. `newResource` decides what "creating" a resource means.
 */
export async function runMockedProgram(
  program: () => void | Promise<void>,
  newResource: NewResource = echoResource,
  options: { stack?: string } = {},
): Promise<RegisteredResource[]> {
  const recorded: RegisteredResource[] = [];
  let counter = 0;
  const byName = new Map<string, RegisteredResource>();
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const record = byName.get(`${args.type}::${args.name}`);
        if (record) record.startedAt = performance.now();
        const result = await newResource(args);
        if (record) {
          record.finishedAt = performance.now();
          record.inputs = args.inputs as Record<string, unknown>;
        }
        return result;
      },
      call: async (args) => args.inputs,
    },
    "netmap-testbed",
    options.stack ?? "test",
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = async (req, callback) => {
    const record: RegisteredResource = {
      type: req.getType(),
      name: req.getName(),
      urn: `${req.getParent()}$${req.getType()}::${req.getName()}`,
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      propertyDependencies: propertyDependenciesOf(req),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      custom: req.getCustom(),
      inputs: {},
      rawInputs: req.getObject().toJavaScript(),
      startedAt: Number.NaN,
      finishedAt: Number.NaN,
      order: counter++,
    };
    recorded.push(record);
    byName.set(`${record.type}::${record.name}`, record);
    return original(req, callback);
  };
  await program();
  await settings.waitForRPCs();
  return recorded;
}

/** The resource with this logical name; fails the test with the names that exist when absent. */
export function resourceNamed(resources: readonly RegisteredResource[], name: string): RegisteredResource {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; have: ${resources.map((r) => r.name).join(", ")}`);
  return found;
}

/** The name part of a URN (the last `::` segment). */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Pulumi's wire marker for a secret value. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export function isSecretValue(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** The value with every secret wrapper removed, to compare contents. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value !== "object" || value === null) return value;
  if (isSecretValue(value)) return unwrapSecrets((value as Record<string, unknown>).value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
}
