import { shellQuote, shellQuoteArgv } from "./shell-quote";

describe("shellQuote", () => {
  it.each([
    ["plain", "plain"],
    ["-netdev", "-netdev"],
    ["netmap,id=nm0,ifname=vale0:vm1,passthrough=on", "netmap,id=nm0,ifname=vale0:vm1,passthrough=on"],
    ["netmap:chain0{1", "'netmap:chain0{1'"],
    ["a b", "'a b'"],
    ["it's", "'it'\\''s'"],
    ["", "''"],
    ["$HOME", "'$HOME'"],
  ])("%s → %s", (arg, quoted) => {
    expect(shellQuote(arg)).toBe(quoted);
  });

  it("joins an argv", () => {
    expect(shellQuoteArgv(["vale-ctl", "-n", "x y"])).toBe("vale-ctl -n 'x y'");
  });
});
