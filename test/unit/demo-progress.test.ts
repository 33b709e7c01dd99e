/** The demo's phase lines, from a sequence of engine events as `pulumi up --event-log` writes them. */
import { DEMO_PHASES, IndentedJsonDocument, PhaseTracker, describePreview } from "../../tools/demo-phases";

const urn = (type: string, name: string): string =>
  `urn:pulumi:local::netmap-testbed::netmap-testbed:index:Testbed$pulumi-nodejs:dynamic/netmap-testbed:${type}::${name}`;

function event(kind: "pre" | "out" | "failed", type: string, name: string, timestamp: number, op = "create") {
  const metadata = { op, urn: urn(type, name), type: `pulumi-nodejs:dynamic/netmap-testbed:${type}` };
  if (kind === "pre") return { timestamp, resourcePreEvent: { metadata } };
  if (kind === "out") return { timestamp, resOutputsEvent: { metadata } };
  return { timestamp, resOpFailedEvent: { metadata } };
}

describe("PhaseTracker", () => {
  it("says when a phase starts and when its last step is done, with the time it took", () => {
    const tracker = new PhaseTracker();
    const lines = [
      event("pre", "NetmapPrepare", "local-lab1-netmap-prepare", 100),
      event("pre", "NetmapFetch", "local-lab1-netmap-fetch", 101),
      event("out", "NetmapPrepare", "local-lab1-netmap-prepare", 150),
      event("out", "NetmapFetch", "local-lab1-netmap-fetch", 190),
      event("pre", "NativeBuild", "local-lab1-native-qemu", 200),
      event("pre", "NetmapBuild", "local-lab1-netmap-build", 210),
      event("out", "NetmapBuild", "local-lab1-netmap-build", 223),
      event("out", "NativeBuild", "local-lab1-native-qemu", 560),
      { timestamp: 561, summaryEvent: {} },
    ].flatMap((e) => tracker.accept(e));
    expect(lines).toEqual([
      expect.stringMatching(/^▶ netmap on the lab host .*\(expected /),
      expect.stringMatching(/^▶ ptnet QEMU built here/),
      expect.stringMatching(/^✓ netmap on the lab host .*: 123 s$/),
      expect.stringMatching(/^✓ ptnet QEMU built here.*: 360 s$/),
    ]);
  });

  it("reports a failed step and does not call its phase done", () => {
    const tracker = new PhaseTracker();
    const lines = [
      event("pre", "Vm", "local-lab1-guest1-vm", 10),
      event("pre", "Vm", "local-lab1-guest2-vm", 10),
      event("failed", "Vm", "local-lab1-guest1-vm", 300),
      event("out", "Vm", "local-lab1-guest2-vm", 320),
      { timestamp: 321, summaryEvent: {} },
    ].flatMap((e) => tracker.accept(e));
    expect(lines).toEqual([
      expect.stringMatching(/^▶ VMs/),
      expect.stringMatching(/^✗ VMs .*local-lab1-guest1-vm failed/),
      expect.stringMatching(/^✗ VMs .*: failed$/),
    ]);
  });

  it("tells a destroy's phases as removals", () => {
    const tracker = new PhaseTracker();
    const lines = [
      event("pre", "LabHost", "local-lab1-boot", 5, "delete"),
      event("out", "LabHost", "local-lab1-boot", 9, "delete"),
      { timestamp: 9, summaryEvent: {} },
    ].flatMap((e) => tracker.accept(e));
    expect(lines).toEqual(["▶ removing: lab host boot", "✓ removing: lab host boot: 4 s"]);
  });

  it("ignores unchanged and read steps, components and other events", () => {
    const tracker = new PhaseTracker();
    expect(tracker.accept(event("pre", "Vm", "x-vm", 1, "same"))).toEqual([]);
    expect(tracker.accept({ timestamp: 1 })).toEqual([]);
    expect(
      tracker.accept({
        timestamp: 1,
        resourcePreEvent: {
          metadata: { op: "create", urn: "urn:x::Testbed::local", type: "netmap-testbed:index:Testbed" },
        },
      }),
    ).toEqual([]);
  });

  it("has a phase for every step kind a local-lab deployment makes", () => {
    const kinds = [
      "LabImage",
      "LabHost",
      "HostScripts",
      "SourceUpload",
      "NetmapPrepare",
      "NetmapFetch",
      "NetmapBuild",
      "NetmapInstall",
      "NetmapLoad",
      "NetmapPersist",
      "ValePort",
      "QemuBuild",
      "GuestImageFetch",
      "GuestImagePack",
      "GuestImageStore",
      "GuestNetmapUpload",
      "VmSeed",
      "Vm",
    ];
    for (const type of kinds) expect(DEMO_PHASES.some((phase) => phase.matches(type, "x"))).toBe(true);
    expect(DEMO_PHASES.some((phase) => phase.matches("NativeBuild", "local-lab1-native-netmap"))).toBe(true);
    // The recipe image's guests' netmap, built here too.
    expect(DEMO_PHASES.some((phase) => phase.matches("NativeBuild", "local-image-lab-native-netmap"))).toBe(
      true,
    );
  });
});

describe("the preview's document", () => {
  it("is gathered from its lines, even where one of them is JSON by itself, and told in one line", () => {
    const document = {
      steps: [{ op: "create", stackTrace: ["project:///a.ts#1,2"] }],
      changeSummary: { create: 35, same: 2, update: 0 },
    };
    const gatherer = new IndentedJsonDocument();
    const answers = JSON.stringify(document, null, 4)
      .split("\n")
      .map((line) => gatherer.accept(line));
    expect(answers.slice(0, -1).every((answer) => answer === "more")).toBe(true);
    const last = answers[answers.length - 1];
    expect(last).toMatchObject({ document });
    expect(describePreview(typeof last === "object" ? last.document : undefined)).toBe(
      "preview: 35 to create, 2 unchanged or left out",
    );
    // The engine's events that follow are one line each, and not the document's.
    expect(gatherer.accept('{"sequence":1,"timestamp":5}')).toBe("none");
  });

  it("gives back what is not a preview as its text", () => {
    const gatherer = new IndentedJsonDocument();
    for (const line of ["{", "not json"]) expect(gatherer.accept(line)).toBe("more");
    expect(gatherer.accept("}")).toEqual({ text: "{\nnot json\n}" });
    expect(describePreview({ steps: [] })).toBeUndefined();
    expect(describePreview({ changeSummary: {} })).toBe("preview: no resources");
  });
});
