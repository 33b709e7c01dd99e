import * as path from "path";
import { readTranscript } from "../../test/support/parser-transcripts";
import {
  parseValeCtlError,
  parseValeCtlGeometry,
  parseValeCtlList,
  parseValeCtlPortInfo,
  ValeCtlParseError,
} from "./vale-ctl";

function call(file: string, command: string, nth = 0): { stdout: string; stderr: string; rc: number } {
  const calls = readTranscript(file).filter((c) => c.command === command);
  if (calls.length <= nth) throw new Error(`no call #${nth} of "${command}" in ${file}`);
  return calls[nth];
}

describe("parseValeCtlList", () => {
  it("reads an empty listing (exit 1, no stderr) as no ports", () => {
    const c = call("vale-ctl-lifecycle.txt", "vale-ctl", 0);
    expect(c.rc).toBe(1);
    expect(parseValeCtlList(c.stdout, c.stderr, c.rc)).toEqual({ ports: [], anomalies: [] });
  });

  it("reads two attached ports from the real listing", () => {
    const c = call("vale-ctl-lifecycle.txt", "vale-ctl", 2);
    expect(parseValeCtlList(c.stdout, c.stderr, c.rc)).toEqual({
      ports: [
        { switch: "vale0", port: "v0", bridgeIdx: 0, portIdx: 0 },
        { switch: "vale0", port: "v1", bridgeIdx: 0, portIdx: 1 },
      ],
      anomalies: [],
    });
  });

  it("reads the listing after one detach", () => {
    const c = call("vale-ctl-lifecycle.txt", "vale-ctl", 3);
    expect(parseValeCtlList(c.stdout, c.stderr, c.rc).ports).toEqual([
      { switch: "vale0", port: "v1", bridgeIdx: 0, portIdx: 1 },
    ]);
  });

  it("reports a port listed without its switch prefix as an anomaly, not a crash", () => {
    const c = call("vale-ctl-g.txt", "vale-ctl", 0);
    const listing = parseValeCtlList(c.stdout, c.stderr, c.rc);
    expect(listing.ports).toEqual([{ switch: "vale0", port: "v1", bridgeIdx: 0, portIdx: 1 }]);
    expect(listing.anomalies).toHaveLength(1);
    expect(listing.anomalies[0]).toMatchObject({
      kind: "missing-switch-prefix",
      name: "v0",
      bridgeIdx: 0,
      portIdx: 0,
      likelySwitch: "vale0",
      line: "v0 bridge_idx 0 port_idx 0",
    });
    expect(listing.anomalies[0].message).toMatch(/corrupted/);
  });

  it("keeps reporting the corrupted port when it is the only one left", () => {
    const calls = readTranscript("vale-ctl-g.txt").filter((c) => c.command === "vale-ctl");
    const last = calls[calls.length - 1];
    const listing = parseValeCtlList(last.stdout, last.stderr, last.rc);
    expect(listing.ports).toEqual([]);
    expect(listing.anomalies.map((a) => [a.name, a.likelySwitch])).toEqual([["v0", undefined]]);
  });

  it("accepts exit 0 too", () => {
    expect(parseValeCtlList("vale1:eth1 bridge_idx 1 port_idx 0\n", "", 0).ports).toEqual([
      { switch: "vale1", port: "eth1", bridgeIdx: 1, portIdx: 0 },
    ]);
  });

  it("throws with vale-ctl's text when stderr has an error", () => {
    expect(() => parseValeCtlList("", "/dev/netmap: No such file or directory\n", 1)).toThrow(
      /listing failed \(exit 1\): \/dev\/netmap: No such file or directory/,
    );
    try {
      parseValeCtlList("", "failed to list all: Cannot allocate memory\n", 1);
      throw new Error("expected a throw");
    } catch (e) {
      expect(e).toBeInstanceOf(ValeCtlParseError);
      expect((e as ValeCtlParseError).detail).toMatchObject({ op: "list all", errno: "ENOMEM" });
    }
  });

  it("throws a clear error on malformed lines and odd exit codes", () => {
    expect(() => parseValeCtlList("vale0:v0 bridge 0 port 0\n", "", 1)).toThrow(
      /line 1 is not "NAME bridge_idx N port_idx M": "vale0:v0 bridge 0 port 0"/,
    );
    expect(() => parseValeCtlList("", "", 139)).toThrow(/exited with 139/);
  });
});

describe("parseValeCtlError", () => {
  it.each([
    ["vale-ctl-after-g-on-attached-port.txt", "vale-ctl -n v0", 1, "create", "v0", "File exists", "EEXIST"],
    ["vale-ctl-g.txt", "vale-ctl -d vale0:v0", 0, "detach", "vale0:v0", "No such device or address", "ENXIO"],
    ["vale-ctl-g.txt", "vale-ctl -r v0", 0, "remove", "v0", "Device or resource busy", "EBUSY"],
    [
      "vale-ctl-g.txt",
      "vale-ctl -g vale0:v0",
      0,
      "obtain info for",
      "vale0:v0",
      "Invalid argument",
      "EINVAL",
    ],
  ])("decodes %s / %s #%d", (file, command, nth, op, target, errnoText, errno) => {
    const c = call(file, command, nth);
    expect(c.rc).toBe(1);
    expect(parseValeCtlError(c.stderr)).toEqual({ op, target, errnoText, errno, message: c.stderr.trim() });
  });

  it("decodes the errors listed in the samples README", () => {
    expect(parseValeCtlError("failed to attach vale0:v0: Device or resource busy\n")).toMatchObject({
      op: "attach",
      target: "vale0:v0",
      errno: "EBUSY",
    });
    expect(parseValeCtlError("invalid vale port name: 'v0'\nUsage:\nvale-ctl [arguments]\n")).toMatchObject({
      op: "validate",
      target: "v0",
      errnoText: null,
    });
  });

  it("returns null for an empty stderr and 'unknown' for text it does not know", () => {
    expect(parseValeCtlError("")).toBeNull();
    expect(parseValeCtlError("  \n")).toBeNull();
    expect(parseValeCtlError("something odd\n")).toEqual({
      op: "unknown",
      target: null,
      errnoText: null,
      errno: null,
      message: "something odd",
    });
  });
});

describe("parseValeCtlGeometry", () => {
  it("reads the real -g output (rx_rings without colon)", () => {
    const c = call("vale-ctl-g.txt", "vale-ctl -g v0");
    expect(parseValeCtlGeometry(c.stdout)).toEqual({
      memsize: 42369024,
      txSlots: 1024,
      rxSlots: 1024,
      txRings: 1,
      rxRings: 1,
      memId: 2,
    });
  });

  it("rejects incomplete or garbled output", () => {
    expect(() => parseValeCtlGeometry("memsize:    42369024\n")).toThrow(/lacks txSlots, rxSlots/);
    expect(() => parseValeCtlGeometry("memsize: lots\n")).toThrow(/line 1 is not "key: number"/);
  });
});

describe("parseValeCtlPortInfo", () => {
  it("reads -l output and flags port_idx 255", () => {
    expect(parseValeCtlPortInfo(call("vale-ctl-lifecycle.txt", "vale-ctl -l vale0:v1").stdout)).toEqual({
      bridgeIdx: 0,
      portIdx: 1,
      corrupted: false,
    });
    expect(parseValeCtlPortInfo(call("vale-ctl-g.txt", "vale-ctl -l vale0:v0").stdout)).toEqual({
      bridgeIdx: 0,
      portIdx: 255,
      corrupted: true,
    });
    expect(() => parseValeCtlPortInfo("")).toThrow(/lacks bridge_idx/);
  });
});

describe("vale-ctl without the netmap module (real recording: test/fixtures/recorded/vale-ctl-no-module.txt)", () => {
  const noModule = path.resolve(__dirname, "../../test/fixtures/recorded/vale-ctl-no-module.txt");

  it("a listing that cannot open /dev/netmap is an error (ENOENT), not an empty listing", () => {
    const c = call(noModule, "vale-ctl");
    expect(c.rc).toBe(1);
    expect(() => parseValeCtlList(c.stdout, c.stderr, c.rc)).toThrow(ValeCtlParseError);
    expect(parseValeCtlError(c.stderr)).toEqual({
      op: "open",
      target: "/dev/netmap",
      errnoText: "No such file or directory",
      errno: "ENOENT",
      message: "/dev/netmap: No such file or directory",
    });
  });

  it("every operation fails the same way before reaching netmap", () => {
    for (const command of [
      "vale-ctl -n v0",
      "vale-ctl -a vale0:v0",
      "vale-ctl -l vale0:v0",
      "vale-ctl -g v0",
    ]) {
      expect(parseValeCtlError(call(noModule, command).stderr)).toMatchObject({
        op: "open",
        errno: "ENOENT",
      });
    }
  });

  it("a bad name for -l is a validation error, whatever the usage after it", () => {
    const c = call(noModule, "vale-ctl -l v0");
    expect(c.stderr).toMatch(/^Usage:$/m);
    expect(parseValeCtlError(c.stderr)).toMatchObject({ op: "validate", target: "v0", errno: null });
  });

  it("getopt's complaints (bad option, missing argument) come back as unknown errors with their text", () => {
    expect(parseValeCtlError(call(noModule, "vale-ctl -x").stderr)).toMatchObject({
      op: "unknown",
      message: "vale-ctl: invalid option -- 'x'",
    });
    expect(parseValeCtlError(call(noModule, "vale-ctl -a").stderr)).toMatchObject({
      op: "unknown",
      message: "vale-ctl: option requires an argument -- 'a'",
    });
    expect(parseValeCtlError(call(noModule, "vale-ctl extra").stderr)).toMatchObject({
      op: "unknown",
      message: "Usage:",
    });
  });
});
