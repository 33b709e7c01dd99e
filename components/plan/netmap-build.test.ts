import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { netmapBuildKey, netmapConfigKey, netmapConfigureArgs, planNetmapBuild } from "./netmap-build";
import type { NetmapSettings } from "../topology/model";

const gitSource = { kind: "git", git: "https://github.com/luigirizzo/netmap.git", ref: "master" } as const;

function settings(overrides: Partial<NetmapSettings> = {}): NetmapSettings {
  return { source: gitSource, drivers: [], driverVersions: {}, params: {}, ...overrides };
}

const debian12 = { kernelRelease: "6.1.0-50-amd64", sourceDir: "/var/lib/netmap-testbed/src/netmap" };

describe("netmapConfigureArgs", () => {
  it.each([
    {
      name: "no drivers",
      settings: settings(),
      host: debian12,
      args: [
        "--kernel-dir=/lib/modules/6.1.0-50-amd64/build",
        "--no-drivers",
        "--enable-vale",
        "--enable-pipe",
        "--enable-ptnetmap",
        "--fail-on-driver-errors",
      ],
    },
    {
      name: "Intel drivers on 6.1: known-good versions selected",
      settings: settings({ drivers: ["ixgbe", "i40e"] }),
      host: debian12,
      args: [
        "--kernel-dir=/lib/modules/6.1.0-50-amd64/build",
        "--drivers=i40e,ixgbe",
        "--enable-vale",
        "--enable-pipe",
        "--enable-ptnetmap",
        "--fail-on-driver-errors",
        "--select-version=i40e:2.28.9,ixgbe:6.1.6",
      ],
    },
    {
      name: "unknown kernel series: no --select-version (netmap's default)",
      settings: settings({ drivers: ["ixgbe"] }),
      host: {
        ...debian12,
        kernelRelease: "6.8.0-51-generic",
        kernelDir: "/usr/src/linux-headers-6.8.0-51-generic",
      },
      args: [
        "--kernel-dir=/usr/src/linux-headers-6.8.0-51-generic",
        "--drivers=ixgbe",
        "--enable-vale",
        "--enable-pipe",
        "--enable-ptnetmap",
        "--fail-on-driver-errors",
      ],
    },
    {
      name: "in-tree driver: kernel sources, configure's file name for veth",
      settings: settings({ drivers: ["veth", "ixgbe"], driverVersions: { ixgbe: "5.19.6" } }),
      host: { ...debian12, kernelSources: "/usr/src/linux-source-6.1" },
      args: [
        "--kernel-dir=/lib/modules/6.1.0-50-amd64/build",
        "--kernel-sources=/usr/src/linux-source-6.1",
        "--drivers=ixgbe,veth.c",
        "--enable-vale",
        "--enable-pipe",
        "--enable-ptnetmap",
        "--fail-on-driver-errors",
        "--select-version=ixgbe:5.19.6",
      ],
    },
    {
      name: "virtio_net is configure's virtio_net.c",
      settings: settings({ drivers: ["virtio_net"] }),
      host: debian12,
      args: [
        "--kernel-dir=/lib/modules/6.1.0-50-amd64/build",
        "--drivers=virtio_net.c",
        "--enable-vale",
        "--enable-pipe",
        "--enable-ptnetmap",
        "--fail-on-driver-errors",
      ],
    },
  ])("$name", ({ settings: s, host, args }) => {
    expect(netmapConfigureArgs(planNetmapBuild(s), host)).toEqual(args);
  });

  it("refuses an in-tree driver without kernel sources, saying what to do", () => {
    expect(() => netmapConfigureArgs(planNetmapBuild(settings({ drivers: ["e1000"] })), debian12)).toThrow(
      /e1000 .*kernel's own sources.*kernelSources/,
    );
  });
});

describe("netmap build keys", () => {
  const base = planNetmapBuild(settings({ drivers: ["ixgbe", "i40e"], driverVersions: { ixgbe: "6.1.6" } }));

  it("is 16 hex characters", () => {
    expect(base.configKey).toMatch(/^[0-9a-f]{16}$/);
  });

  it("ignores driver order and duplicates, and module parameters (load time only)", () => {
    const same = planNetmapBuild(
      settings({
        drivers: ["i40e", "ixgbe", "i40e"],
        driverVersions: { ixgbe: "6.1.6" },
        params: { buf_num: 1 },
      }),
    );
    expect(same.configKey).toBe(base.configKey);
  });

  it.each([
    [
      "ref",
      settings({
        source: { ...gitSource, ref: "v14" },
        drivers: ["ixgbe", "i40e"],
        driverVersions: { ixgbe: "6.1.6" },
      }),
    ],
    [
      "repository",
      settings({
        source: { ...gitSource, git: "https://example.org/netmap.git" },
        drivers: ["ixgbe", "i40e"],
        driverVersions: { ixgbe: "6.1.6" },
      }),
    ],
    [
      "source kind",
      settings({
        source: { kind: "hostPath", path: "/srv/netmap.tar.gz" },
        drivers: ["ixgbe", "i40e"],
        driverVersions: { ixgbe: "6.1.6" },
      }),
    ],
    ["drivers", settings({ drivers: ["ixgbe"], driverVersions: { ixgbe: "6.1.6" } })],
    ["explicit version", settings({ drivers: ["ixgbe", "i40e"], driverVersions: { ixgbe: "6.0.6" } })],
    [
      "explicit version added",
      settings({ drivers: ["ixgbe", "i40e"], driverVersions: { ixgbe: "6.1.6", i40e: "2.28.9" } }),
    ],
  ])("changes with the %s", (_what, changed) => {
    expect(planNetmapBuild(changed).configKey).not.toBe(base.configKey);
  });

  it("changes with configure options", () => {
    const input = {
      source: base.source,
      drivers: base.drivers,
      explicitDriverVersions: base.explicitDriverVersions,
      configureOptions: base.configureOptions,
    };
    expect(netmapConfigKey(input)).toBe(base.configKey);
    expect(
      netmapConfigKey({ ...input, configureOptions: [...input.configureOptions, "--driver-suffix=_nm"] }),
    ).not.toBe(base.configKey);
  });

  it("keys a controller source by its contents, not where it lies on the controller", () => {
    const at = (path: string) =>
      planNetmapBuild(settings({ source: { kind: "path", path }, drivers: [] })).configKey;
    expect(at("/home/a/netmap.tgz")).toBe(at("/srv/checkout-2/netmap"));
    const withDigest = (path: string, sha256: string) =>
      planNetmapBuild(settings({ source: { kind: "path", path, sha256 }, drivers: [] })).configKey;
    expect(withDigest("/home/a/netmap.tgz", "a".repeat(64))).toBe(withDigest("/srv/netmap", "a".repeat(64)));
    expect(withDigest("/home/a/netmap.tgz", "a".repeat(64))).not.toBe(
      withDigest("/home/a/netmap.tgz", "b".repeat(64)),
    );
    expect(at("/home/a/netmap.tgz")).not.toBe(
      planNetmapBuild(settings({ source: { kind: "hostPath", path: "/home/a/netmap.tgz" }, drivers: [] }))
        .configKey,
    );
  });

  it("build key adds kernel release and resolved commit", () => {
    const key = netmapBuildKey(base.configKey, "6.1.0-50-amd64", "89607e14");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(netmapBuildKey(base.configKey, "6.1.0-50-amd64", "89607e14")).toBe(key);
    expect(netmapBuildKey(base.configKey, "6.1.0-51-amd64", "89607e14")).not.toBe(key);
    expect(netmapBuildKey(base.configKey, "6.1.0-50-amd64", "89607e15")).not.toBe(key);
    expect(netmapBuildKey("0123456789abcdef", "6.1.0-50-amd64", "89607e14")).not.toBe(key);
  });
});

describe("netmapBuildKey agrees with the host script", () => {
  it("is the key kernel-builds/netmap/build.sh derives for the same inputs", () => {
    const common = path.join(__dirname, "../../kernel-builds/lib/common.sh");
    const fromScript = execFileSync(
      "bash",
      [
        "-c",
        `. "$1"; nmtb_sha256 "netmap-testbed/netmap-build/v1"$'\\n'"$2"$'\\n'"$3"$'\\n'"$4"$'\\n'`,
        "_",
        common,
        "0123456789abcdef",
        "6.1.0-50-amd64",
        "sha256:ab",
      ],
      { encoding: "utf8" },
    ).trim();
    expect(netmapBuildKey("0123456789abcdef", "6.1.0-50-amd64", "sha256:ab")).toBe(fromScript);
  });
});
