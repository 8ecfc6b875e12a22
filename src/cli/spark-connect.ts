import { existsSync } from "node:fs";
import { type FallbackToken, isLoopbackHost, parseConnectionUrl, tokenFromEnv } from "../connect/connection-url.ts";
import { SparkSession } from "../connect/spark-session.ts";
import type { CliContext } from "./cli-context.ts";
import { readTokenFile, sparkTokenFile } from "./local/token-file.ts";

/** Environment variable naming a file that holds the Spark Connect token (the file form of `SPARK_CONNECT_TOKEN`). */
export const TOKEN_FILE_ENV = "ORCHARD_SPARK_TOKEN_FILE";

/**
 * The bearer token orchard's commands send to `remote` when its URL has no `token=` (the URL's
 * wins), first found of: `--token-file` (`tokenFile`), the file `ORCHARD_SPARK_TOKEN_FILE` names,
 * `SPARK_CONNECT_TOKEN` / `SPARK_CONNECT_AUTHENTICATE_TOKEN`, and — for a loopback URL — the
 * token file of the server orchard started on that port (`<runDir>/spark-<port>.token`). A token
 * is never taken from a command-line value itself: argv is visible to every local user.
 */
export function clientToken(ctx: CliContext, remote: string, tokenFile?: string): FallbackToken | undefined {
  if (tokenFile) return { token: readTokenFile(tokenFile, "--token-file"), source: "--token-file" };
  const named = ctx.env[TOKEN_FILE_ENV];
  if (named) return { token: readTokenFile(named, TOKEN_FILE_ENV), source: TOKEN_FILE_ENV };
  const fromEnv = tokenFromEnv(ctx.env);
  if (fromEnv) return fromEnv;
  const url = parseConnectionUrl(remote);
  if (url.token !== undefined || !isLoopbackHost(url.host)) return undefined;
  const local = sparkTokenFile(ctx.runDir, url.port);
  if (!existsSync(local)) return undefined;
  return { token: readTokenFile(local, `the token file of the local server on port ${url.port}`), source: local };
}

/**
 * Warns (one line on stderr) when a `--remote` flag's URL holds a token: command lines are
 * visible to every local user (`ps`) while the command runs. The URL in `SPARK_REMOTE` is not
 * warned about: the environment is readable by the same user only.
 */
export function warnTokenInArgv(ctx: CliContext, remoteFlag: string | undefined): void {
  if (remoteFlag !== undefined && /[;?&]token=/i.test(remoteFlag)) {
    ctx.err(
      "orchard: warning: the token in --remote is visible to every local user (ps); give it with SPARK_CONNECT_TOKEN or --token-file instead",
    );
  }
}

/** A session on `remote` that sends {@link clientToken}'s token. No RPC is made here. */
export function connectSpark(ctx: CliContext, remote: string, tokenFile?: string): SparkSession {
  const builder = SparkSession.builder.remote(remote);
  const token = clientToken(ctx, remote, tokenFile);
  if (token) builder.token(token.token, token.source);
  return builder.getOrCreate();
}
