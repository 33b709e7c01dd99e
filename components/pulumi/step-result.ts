/**
 * What a step's `result` reads as in an update that leaves the step out before it was ever
 * created (`pulumi up --exclude` or `--target`): the engine skips its create and gives it no
 * outputs. The engine also refuses an update in which anything it does run depends on such a
 * step, so only steps that are left out too read this, and what they make of it is never run.
 */
export const NOT_CREATED: Readonly<Record<string, unknown>> = Object.freeze({
  "netmap-testbed:notCreated": true,
});

/** What a text derived from a left-out step reads as (never run, but visible in a preview's diff). */
export const NOT_CREATED_TEXT = "(not created in this update)";

/** A step's result as the engine gave it: NOT_CREATED where it gave none. */
export function presentResult(result: Record<string, unknown> | undefined): Record<string, unknown> {
  return result ?? NOT_CREATED;
}

/** Whether a step's result is that of a step left out of this update (see NOT_CREATED). */
export function isNotCreated(result: Readonly<Record<string, unknown>>): boolean {
  // By its field, not its identity: pulumi.all and output() hand on copies of plain objects.
  return result["netmap-testbed:notCreated"] === true;
}

/**
 * A string field of a step's JSON result; a missing or empty one is the step's bug, named. For a
 * step left out of the update, NOT_CREATED_TEXT (read only by steps left out as well).
 */
export function stringField(result: Readonly<Record<string, unknown>>, field: string, step: string): string {
  if (isNotCreated(result)) return NOT_CREATED_TEXT;
  const value = result[field];
  if (typeof value !== "string" || value === "") {
    throw new Error(`netmap-testbed: step ${step} printed no "${field}" (got ${JSON.stringify(result)})`);
  }
  return value;
}
