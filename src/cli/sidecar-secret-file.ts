import { sidecarRunFiles } from "@orchard/udf-server/run-files";
import { isLoopbackHost, parseConnectionUrl } from "../connect/connection-url.ts";
import { ConfigError } from "../errors.ts";
import type { CliContext } from "./cli-context.ts";
import { SHELL_METACHARACTERS } from "./option-schemas.ts";

/**
 * The secret file of the sidecar at `sidecar` (`host:port`) on this machine: `given`
 * (`ORCHARD_SIDECAR_SECRET_FILE`) or `sidecar-<port>.secret` in the CLI's run folder, where a
 * sidecar orchard starts writes it. The path may reach the bridge command, so a shell
 * metacharacter in the run folder is refused (naming `ORCHARD_RUN_DIR`), not only quoted.
 */
export function localSecretFile(ctx: CliContext, sidecar: string, given?: string): string {
  if (given !== undefined) return given;
  const port = Number(sidecar.slice(sidecar.lastIndexOf(":") + 1));
  const path = sidecarRunFiles(ctx.runDir, port).secretFile;
  if (SHELL_METACHARACTERS.test(path)) {
    throw new ConfigError({
      field: "ORCHARD_RUN_DIR",
      expected: "a folder path without shell metacharacters",
      message: `invalid ORCHARD_RUN_DIR (${JSON.stringify(ctx.runDir)}): expected a folder path without shell metacharacters (the sidecar's secret file there reaches the bridge command)`,
    });
  }
  return path;
}

/**
 * This machine's sidecar secret file ({@link localSecretFile}), and the path the bridges get: the
 * same when Spark runs here (a loopback remote), none elsewhere (each bridge uses its own node's).
 */
export function secretFiles(
  ctx: CliContext,
  config: { readonly remote: string; readonly sidecar: string; readonly sidecarSecretFile?: string },
): { secretFile: string; bridgeSecretFile?: string } {
  const secretFile = localSecretFile(ctx, config.sidecar, config.sidecarSecretFile);
  return isLoopbackHost(parseConnectionUrl(config.remote).host)
    ? { secretFile, bridgeSecretFile: secretFile }
    : { secretFile };
}
