/**
 * The one error base of orchard. Every error thrown by `src/` and `udf-server/` is an
 * `OrchardError` whose `kind` a caller can branch on (`err.kind === "server"`), with the
 * underlying failure kept as `cause`. Messages never contain tokens or secret keys.
 */
export type OrchardErrorKind =
  | "server" // the Spark Connect server answered with an error (see SparkServerError)
  | "connection" // the server could not be reached, or the stream broke beyond retry
  | "plan" // a plan could not be built client-side (bad argument to a builder)
  | "config" // bad configuration: names the field and the expected form
  | "interrupted" // an operation was cancelled (AbortSignal, Ctrl-C)
  | "protocol" // a peer sent something the protocol does not allow
  | "setup" // a local component (Spark, S3, model, sidecar) could not be installed or started
  | "input" // bad user data (an image that cannot be decoded, ...)
  | "pipeline"; // a pipeline invariant failed (e.g. rows in != rows out)

export interface OrchardErrorOptions {
  message: string;
  cause?: unknown;
}

export class OrchardError extends Error {
  readonly kind: OrchardErrorKind;

  constructor(kind: OrchardErrorKind, { message, cause }: OrchardErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.name = new.target.name;
  }
}

/** Bad configuration: `field` names the offending setting, `expected` its form. */
export class ConfigError extends OrchardError {
  readonly field: string;
  readonly expected: string;

  constructor({
    field,
    expected,
    message,
    cause,
  }: { field: string; expected: string; message?: string; cause?: unknown }) {
    super("config", { message: message ?? `invalid ${field}: expected ${expected}`, cause });
    this.field = field;
    this.expected = expected;
  }
}

/** A local component could not be installed, started or reached. */
export class SetupError extends OrchardError {
  readonly component: string;

  constructor({ component, message, cause }: { component: string; message: string; cause?: unknown }) {
    super("setup", { message, cause });
    this.component = component;
  }
}
