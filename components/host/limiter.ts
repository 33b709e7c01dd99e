/** A counting semaphore: at most `limit` holders at a time, the rest wait in FIFO order. */
export class ChannelLimiter {
  #active = 0;
  #maxObserved = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`channel limit must be a positive integer, got ${limit}`);
    }
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Highest number of simultaneous holders seen so far. */
  get maxObserved(): number {
    return this.#maxObserved;
  }

  /** Runs `task` once a slot is free and releases the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#active < this.limit) {
      this.#take();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        this.#take();
        resolve();
      });
    });
  }

  #take(): void {
    this.#active += 1;
    this.#maxObserved = Math.max(this.#maxObserved, this.#active);
  }

  #release(): void {
    this.#active -= 1;
    const next = this.#waiting.shift();
    if (next) {
      next();
    }
  }
}
