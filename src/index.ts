/** orchard's library entry. The Spark Connect client's public API is re-exported here. */
export { ConfigError, OrchardError, type OrchardErrorKind, SetupError } from "./errors.ts";
