import { ChannelLimiter } from "./limiter";

describe("ChannelLimiter", () => {
  it("never runs more than the limit at once and runs every task", async () => {
    const limiter = new ChannelLimiter(4);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        limiter.run(async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 1 + (i % 3)));
          running -= 1;
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(peak).toBe(4);
    expect(limiter.maxObserved).toBe(4);
    expect(limiter.active).toBe(0);
  });

  it("releases the slot when a task fails", async () => {
    const limiter = new ChannelLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(limiter.run(() => Promise.resolve("next"))).resolves.toBe("next");
  });

  it("rejects a non-positive limit", () => {
    expect(() => new ChannelLimiter(0)).toThrow(RangeError);
  });
});
