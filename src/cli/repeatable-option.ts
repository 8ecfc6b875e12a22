/**
 * Commander helper: collects a repeatable option's values into an array (`--conf a=1 --conf b=2`).
 * Kept apart from the zod schemas, so that defining the commands does not load zod.
 */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
