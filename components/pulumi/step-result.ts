/** A string field of a step's JSON result; a missing or empty one is the step's bug, named. */
export function stringField(result: Record<string, unknown>, field: string, step: string): string {
  const value = result[field];
  if (typeof value !== "string" || value === "") {
    throw new Error(`netmap-testbed: step ${step} printed no "${field}" (got ${JSON.stringify(result)})`);
  }
  return value;
}
