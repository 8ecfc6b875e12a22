/**
 * orchard's error base, shared with the sidecar package: one `OrchardError` with a `kind` to
 * branch on, and the config and set-up errors both packages throw (see `@orchard/udf-server/errors`).
 */
export {
  ConfigError,
  OrchardError,
  type OrchardErrorKind,
  type OrchardErrorOptions,
  SetupError,
} from "@orchard/udf-server/errors";
