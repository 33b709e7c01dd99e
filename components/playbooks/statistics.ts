/** Summary statistics of measured rates (simple-statistics does the arithmetic). */
import { max, median, min, sampleStandardDeviation } from "simple-statistics";

export interface Summary {
  /** Number of values summarised. */
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  readonly stddev: number;
}

/** Summary of `values`, or undefined when there are none. */
export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const list = [...values];
  return {
    n: list.length,
    median: median(list),
    min: min(list),
    max: max(list),
    stddev: list.length > 1 ? sampleStandardDeviation(list) : 0,
  };
}
