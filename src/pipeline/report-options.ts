/**
 * Defaults of the report that the command line shows in its help; kept apart from the report's
 * code so that `orchard --help` does not load Spark's client to print them.
 */

/** At most this many points are drawn in the projection by default. */
export const DEFAULT_MAX_POINTS = 5000;
