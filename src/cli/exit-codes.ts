import { OrchardError } from "../errors.ts";

/** Exit codes of the `orchard` command. */
export const EXIT = {
  ok: 0,
  /** Anything else: a Spark error, a pipeline failure, a bug. */
  failure: 1,
  /** Bad configuration or usage (a flag, a file, an environment variable). */
  config: 2,
  /** A local component could not be installed/started, or a server could not be reached. */
  setup: 3,
  /** Interrupted by the user (Ctrl-C), as shells report SIGINT. */
  interrupted: 130,
  /** Stopped by SIGTERM (a service manager, `kill`), as shells report it. */
  terminated: 143,
} as const;

/**
 * Ends a command with a chosen exit code and no message of orchard's own: `orchard submit` exits
 * with its driver's code, whose output has already said what happened.
 */
export class ExitWith extends Error {
  readonly code: number;

  constructor(code: number) {
    super(`exit code ${code}`);
    this.name = "ExitWith";
    this.code = code;
  }
}

/** The exit code for an error caught at the CLI's edge. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof OrchardError)) return EXIT.failure;
  switch (err.kind) {
    case "config":
      return EXIT.config;
    case "setup":
    case "connection":
      return EXIT.setup;
    case "interrupted":
      return EXIT.interrupted;
    default:
      return EXIT.failure;
  }
}
