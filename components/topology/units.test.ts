import fc from "fast-check";
import { parseMiB } from "./units";

describe("sizes", () => {
  it.each([
    ["2GiB", 2048],
    ["2G", 2048],
    ["512MiB", 512],
    ["512M", 512],
    ["1 GiB", 1024],
  ])("%s is %i MiB", (text, mib) => {
    expect(parseMiB(text)).toBe(mib);
  });

  it.each(["2048", "2GB", "2 gb", "1.5GiB", "-1GiB", "GiB", "2TiB"])("rejects %s", (text) => {
    expect(parseMiB(text)).toBeUndefined();
  });

  it("GiB is 1024 MiB for any size", () => {
    fc.assert(fc.property(fc.nat(100000), (n) => parseMiB(`${n}GiB`) === parseMiB(`${n * 1024}MiB`)));
  });
});
