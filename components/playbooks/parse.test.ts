import { hostKeyFromConsole, parseHostKeyFile } from "./host-keys";
import { parseProvenance, parseSections } from "./provenance";
import { parseGovernors, parseOffloads, parsePause } from "./tuning-parse";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMRLuFO5GnD61L+kDIuyB3UBKAJPVZabXHOd8vIEk47";
const ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=";

describe("host keys", () => {
  it("reads a host-key file with optional ADDRESS:PORT and comments", () => {
    const keys = parseHostKeyFile(`# lab\nvm1 ${ED} root@vm1\nh1 127.0.0.1:2222 ${ED}\n\n`, "keys");
    expect(keys.get("vm1")).toEqual({ name: "vm1", hostKey: ED });
    expect(keys.get("h1")).toEqual({ name: "h1", hostKey: ED, address: "127.0.0.1", port: 2222 });
    expect(() => parseHostKeyFile("vm1 nonsense\n", "keys")).toThrow(
      /^keys:1: expected NAME \[ADDRESS:PORT\]/,
    );
    expect(() => parseHostKeyFile("vm1 1.2.3.4:22 ssh-foo AAAA\n", "keys")).toThrow(
      /^keys:1: expected a key/,
    );
  });

  it("takes the guest's key from cloud-init's console block, ed25519 first", () => {
    const console = [
      "[  12.1] cloud-init[512]: ci-info: ...",
      "-----BEGIN SSH HOST KEY KEYS-----",
      `${ECDSA} root@vm1`,
      `${ED} root@vm1`,
      "-----END SSH HOST KEY KEYS-----",
    ].join("\r\n");
    expect(hostKeyFromConsole(console)).toBe(ED);
    expect(hostKeyFromConsole("no block")).toBeUndefined();
    expect(hostKeyFromConsole("-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 AAAA")).toBeUndefined();
  });
});

describe("tuning state parsers", () => {
  it("reads ethtool -a", () => {
    expect(parsePause("Pause parameters for ens1f0:\nAutonegotiate:\ton\nRX:\t\ton\nTX:\t\toff\n")).toEqual({
      autoneg: "on",
      rx: "on",
      tx: "off",
    });
    expect(parsePause("Cannot get device pause settings: Operation not supported")).toBeUndefined();
  });

  it("reads ethtool -k, marking fixed features", () => {
    const text = [
      "Features for ens1f0:",
      "rx-checksumming: on",
      "tx-checksumming: on",
      "\ttx-checksum-ipv4: off [fixed]",
      "scatter-gather: off [fixed]",
      "tcp-segmentation-offload: on",
      "generic-segmentation-offload: on [requested off]",
      "generic-receive-offload: off",
      "large-receive-offload: off [fixed]",
    ].join("\n");
    expect(parseOffloads(text)).toEqual({
      rx: { on: true, fixed: false },
      tx: { on: true, fixed: false },
      sg: { on: false, fixed: true },
      tso: { on: true, fixed: false },
      gso: { on: true, fixed: false },
      gro: { on: false, fixed: false },
      lro: { on: false, fixed: true },
    });
  });

  it("reads cpufreq governors", () => {
    expect(
      parseGovernors(
        "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor schedutil\n/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor performance\n",
      ),
    ).toEqual({
      "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor": "schedutil",
      "/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor": "performance",
    });
  });
});

describe("provenance", () => {
  it("parses the collection script's sections, tolerating what is absent", () => {
    const text = [
      "@@kernel",
      "6.1.0-50-amd64",
      "@@os",
      "Debian GNU/Linux 12 (bookworm)",
      "@@cpu",
      "Intel(R) Xeon(R) CPU E5-2630 v3 @ 2.40GHz",
      "@@cpus",
      "16",
      "@@netmap-state build.args",
      "--drivers=ixgbe",
      "@@netmap-build-dir",
      "/var/cache/netmap-testbed/build/4f2a9c",
      "@@netmap-loaded",
      "",
      "@@netmap-param buf_num",
      "327680",
      "@@qemu-stamp /opt/netmap-testbed/qemu/ab12/.netmap-testbed-stamp",
      "ab12\n2bd7d3a\ngit https://github.com/netmap-unipi/qemu.git master",
      "@@ethtool-i ens1f0",
      "driver: ixgbe\nversion: 6.1.6\nfirmware-version: 0x800003df\nbus-info: 0000:03:00.0",
      "@@nic-pci ens1f0",
      "0x8086\n0x10fb",
      "@@ethtool-i eth9",
      "Cannot get driver information: No such device",
    ].join("\n");
    expect(parseSections(text)[0]).toEqual({ name: "kernel", arg: "", body: "6.1.0-50-amd64" });
    expect(parseProvenance("h1", "host", text)).toEqual({
      name: "h1",
      kind: "host",
      kernel: "6.1.0-50-amd64",
      os: "Debian GNU/Linux 12 (bookworm)",
      cpuModel: "Intel(R) Xeon(R) CPU E5-2630 v3 @ 2.40GHz",
      cpus: 16,
      netmap: {
        loaded: true,
        params: { buf_num: "327680" },
        state: { "build.args": "--drivers=ixgbe" },
        buildKey: "4f2a9c",
      },
      qemu: {
        "/opt/netmap-testbed/qemu/ab12/.netmap-testbed-stamp":
          "ab12\n2bd7d3a\ngit https://github.com/netmap-unipi/qemu.git master",
      },
      nics: [
        {
          interface: "ens1f0",
          ethtool: {
            driver: "ixgbe",
            version: "6.1.6",
            "firmware-version": "0x800003df",
            "bus-info": "0000:03:00.0",
          },
          pci: "0x8086 0x10fb",
        },
        { interface: "eth9", ethtool: { error: "Cannot get driver information: No such device" } },
      ],
    });
    expect(parseProvenance("vm1", "vm", "")).toEqual({
      name: "vm1",
      kind: "vm",
      netmap: { loaded: false, params: {}, state: {} },
      qemu: {},
      nics: [],
    });
  });
});
