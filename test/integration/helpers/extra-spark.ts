import type { InstallLayout } from "../../../src/cli/local/install-layout.ts";
import { freePort } from "../../../src/cli/local/ports.ts";
import { type LocalSpark, startLocalSpark } from "../../../src/cli/local/spark-server.ts";
import { newToken } from "../../../src/cli/local/token-file.ts";
import type { S3Access } from "../../../src/s3.ts";
import { TEST_LOG_DIR } from "./test-paths.ts";

/**
 * Starts an additional real Spark Connect server on a free loopback port, e.g. one that requires
 * a bearer `token` of the test's (for authentication tests), or another Spark release (`layout`,
 * e.g. `spark40Layout()` for the Spark 4.0.2 of `scripts/setup.sh spark40`). Like every server
 * orchard starts it requires a token: given a `token`, `remote` is the bare `sc://host:port` (the
 * test builds its URLs); without one, the server gets a random token and `remote` carries it
 * (`sc://host:port/;token=...`). Call `stop()` on the result in `afterAll`. Takes ~15-20 s; the
 * shared server from the global set-up is still running meanwhile.
 */
export async function startExtraSpark(
  options: {
    token?: string;
    s3?: S3Access;
    conf?: Record<string, string>;
    master?: string;
    layout?: InstallLayout;
  } = {},
): Promise<LocalSpark> {
  const token = options.token ?? newToken();
  const server = await startLocalSpark({
    port: await freePort(),
    master: options.master ?? "local[1]",
    conf: options.conf ?? {},
    token,
    s3: options.s3,
    logDir: TEST_LOG_DIR,
    ...(options.layout ? { layout: options.layout } : {}),
  });
  return options.token === undefined ? { ...server, remote: `${server.remote}/;token=${token}` } : server;
}
