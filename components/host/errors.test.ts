import { HostStepError, describeStepFailure } from "./errors";

describe("HostStepError", () => {
  it("names host, step, exit code and the output tail", () => {
    const error = new HostStepError({
      host: "h1",
      step: "build",
      code: 2,
      tail: ["make: *** [all] Error 2"],
    });
    expect(error.message).toBe(
      'host h1: step "build" failed with exit code 2\nlast 1 line(s) of output:\n  | make: *** [all] Error 2',
    );
    expect(error).toMatchObject({ name: "HostStepError", host: "h1", step: "build", code: 2 });
  });

  it.each([
    [{ code: null, signal: "KILL" }, "was killed by signal KILL"],
    [{ code: null, timedOutAfterMs: 500 }, "timed out after 500 ms"],
    [{ code: null }, "ended without an exit status"],
    [
      { code: null, detail: "could not open a channel: x" },
      "ended without an exit status: could not open a channel: x",
    ],
  ])("describes %j", (facts, text) => {
    expect(describeStepFailure({ host: "h", step: "s", tail: [], ...facts })).toBe(
      `host h: step "s" ${text}`,
    );
  });
});
