import fc from "fast-check";
import {
  checkDriverName,
  checkInterfaceName,
  checkObjectName,
  checkPipeName,
  checkPortName,
  checkSwitchName,
  checkTopologyName,
} from "./names";

const ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
/** Mostly netmap identifier characters plus a few that must be rejected. */
const nameChars = fc.constantFrom(...(ID_CHARS + "-.:/ @{}").split(""));
const names = fc.string({ unit: nameChars, minLength: 0, maxLength: 20 });

describe("netmap names", () => {
  it("VALE port names: exactly [0-9A-Za-z_]{1,15}", () => {
    fc.assert(
      fc.property(names, (name) => {
        expect(checkPortName(name) === undefined).toBe(/^[0-9A-Za-z_]{1,15}$/.test(name));
      }),
    );
  });

  it("switch names: start with vale, then the port rule", () => {
    fc.assert(
      fc.property(names, (suffix) => {
        const name = `vale${suffix}`;
        expect(checkSwitchName(name) === undefined).toBe(/^vale[0-9A-Za-z_]{0,11}$/.test(name));
      }),
    );
    expect(checkSwitchName("sw0")).toContain('must start with "vale"');
  });

  it("pipe names: the port rule, but not vale…", () => {
    fc.assert(
      fc.property(names, (name) => {
        expect(checkPipeName(name) === undefined).toBe(
          /^[0-9A-Za-z_]{1,15}$/.test(name) && !name.startsWith("vale"),
        );
      }),
    );
  });

  it("object names: exactly [A-Za-z0-9][A-Za-z0-9_-]{0,31}", () => {
    const objectChars = fc.constantFrom(...(ID_CHARS + "-./ ").split(""));
    fc.assert(
      fc.property(fc.string({ unit: objectChars, maxLength: 40 }), (name) => {
        expect(checkObjectName("VM", name) === undefined).toBe(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(name));
      }),
    );
  });

  it("interface names follow Linux rules conservatively", () => {
    for (const ok of ["eno1", "ens1f0", "eth0.100", "br-lab", "a"])
      expect(checkInterfaceName(ok)).toBeUndefined();
    for (const bad of ["", ".", "..", "eth/0", "has space", "a234567890123456"]) {
      expect(checkInterfaceName(bad)).toContain("not a valid Linux interface name");
    }
  });

  it("topology and driver names", () => {
    expect(checkTopologyName("paper-2015")).toBeUndefined();
    expect(checkTopologyName("Paper")).toBeDefined();
    expect(checkTopologyName("a".repeat(33))).toBeDefined();
    expect(checkDriverName("i40e")).toBeUndefined();
    expect(checkDriverName("virtio_net")).toBeUndefined();
    expect(checkDriverName("Intel-X710")).toBeDefined();
  });
});
