import { join } from "node:path";

/**
 * orchard's cache root, where everything it installs and runs lives outside git (Spark, S3, the
 * models, pid files and logs): `ORCHARD_CACHE`, else `$XDG_CACHE_HOME/orchard`, else
 * `~/.cache/orchard`. The one place this rule is written; called at the edges (CLI, sidecar and
 * bridge entry points, scripts, test set-up) with their environment and home folder.
 */
export function cacheRootFromEnv(env: Readonly<Record<string, string | undefined>>, home: string): string {
  if (env.ORCHARD_CACHE) return env.ORCHARD_CACHE;
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "orchard");
}
