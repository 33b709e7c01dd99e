import { closest, didYouMean } from "./suggest";

describe("did you mean", () => {
  it("suggests near misses, ignoring case", () => {
    expect(closest("hostkey", ["hostKey", "address"])).toBe("hostKey");
    expect(closest("buf_nums", ["buf_num", "buf_size"])).toBe("buf_num");
    expect(didYouMean("prots", ["ports", "uplinks"])).toBe(' (did you mean "ports"?)');
  });

  it("stays quiet when nothing is close", () => {
    expect(closest("colour", ["address", "hostKey", "user"])).toBeUndefined();
    expect(didYouMean("x", [])).toBe("");
    expect(closest("x", ["a", "b"])).toBeUndefined();
  });
});
