import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { ConfigError, SetupError } from "../../errors.ts";
import { type S3Credentials, s3Client, s3CompatibleAccess } from "../../s3.ts";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";
import { DEFAULT_S3_PORT, localS3Status, startLocalS3, stopLocalS3 } from "../local/s3-server.ts";

// The option schemas (zod) load when a command runs, not when the program is built.
const options = () => import("./s3-options.ts");

/** `orchard s3 start|stop|status|upload|download`: the local S3-compatible server (MinIO). */
export function registerS3Command(program: Command, ctx: CliContext): void {
  const s3 = program
    .command("s3")
    .description(
      "start, stop or inspect the local S3 server (MinIO); keys from ORCHARD_S3_ACCESS_KEY / ORCHARD_S3_SECRET_KEY",
    );

  s3.command("start")
    .description(`start MinIO on loopback (detached; pid and log in ${ctx.runDir})`)
    .option("--port <n>", `S3 API port (default ${DEFAULT_S3_PORT})`)
    .option("--host <addr>", "address to bind (default 127.0.0.1)")
    .option("--data-dir <path>", `where objects are stored (default ${join(ctx.layout.s3Dir, "data")})`)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).s3StartOptions, raw);
      const keys = keysFromEnv(ctx);
      const existing = await localS3Status({ runDir: ctx.runDir, port: opts.port });
      if (existing.running && existing.state) {
        ctx.out(`a local S3 server already runs at ${existing.state.url} (pid ${existing.state.pid})`);
        return;
      }
      const server = await startLocalS3({
        port: opts.port,
        host: opts.host,
        credentials: keys,
        dataDir: opts.dataDir ? resolve(opts.dataDir) : join(ctx.layout.s3Dir, "data"),
        logDir: ctx.runDir,
        layout: ctx.layout,
        env: ctx.env,
      });
      ctx.out(`S3 server started: ${server.endpoint} (pid ${server.pid}); log: ${server.logFile}`);
      ctx.out(`stop it: orchard s3 stop --port ${server.port}`);
    });

  s3.command("stop")
    .description("stop the local S3 server orchard started on a port")
    .option("--port <n>", `S3 API port (default ${DEFAULT_S3_PORT})`)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).s3PortOptions, raw);
      const stopped = await stopLocalS3({ runDir: ctx.runDir, port: opts.port });
      ctx.out(
        stopped
          ? `stopped the local S3 server on port ${opts.port}`
          : `no local S3 server started by orchard on port ${opts.port}`,
      );
    });

  s3.command("status")
    .description("show whether the local S3 server on a port runs (exit code 3 when it does not)")
    .option("--port <n>", `S3 API port (default ${DEFAULT_S3_PORT})`)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).s3PortOptions, raw);
      const status = await localS3Status({ runDir: ctx.runDir, port: opts.port });
      if (!status.running || !status.state) {
        throw new SetupError({
          component: "s3",
          message: `no local S3 server started by orchard is running on port ${opts.port} (start one with: orchard s3 start --port ${opts.port})`,
        });
      }
      ctx.out(`running: ${status.state.url} (pid ${status.state.pid}, ${status.healthy ? "healthy" : "NOT healthy"})`);
      ctx.out(`log: ${status.state.logFile}`);
    });

  s3.command("upload")
    .description("upload a folder to s3://bucket/prefix (creates the bucket if needed)")
    .argument("<dir>", "local folder to upload")
    .requiredOption("--to <s3-uri>", "destination, e.g. s3://orchard/fruits")
    .option("--endpoint <url>", `S3 endpoint (default http://127.0.0.1:${DEFAULT_S3_PORT})`)
    .action(async (dir: string, raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).s3UploadOptions, { ...raw, dir });
      // The AWS SDK is loaded when an upload runs, not when the program is built.
      const { ensureBucket, uploadFolder } = await import("../local/s3-objects.ts");
      const client = await s3Client(s3CompatibleAccess(opts.endpoint, keysFromEnv(ctx)));
      await ensureBucket(client, opts.to.bucket);
      const keys = await uploadFolder(client, {
        bucket: opts.to.bucket,
        prefix: opts.to.prefix,
        dir: resolve(opts.dir),
      });
      ctx.out(`uploaded ${keys.length} files to s3://${opts.to.bucket}/${opts.to.prefix}`);
    });

  s3.command("download")
    .description("download one object, e.g. a run's report.html (default: to its file name in this folder)")
    .argument("<s3-uri>", "the object, e.g. s3://orchard/out/run1/report.html")
    .option("--to <file>", "where to write it (default ./<its file name>)")
    .option("--endpoint <url>", `S3 endpoint (default http://127.0.0.1:${DEFAULT_S3_PORT})`)
    .action(async (from: string, raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).s3DownloadOptions, { ...raw, from });
      const { downloadObject } = await import("../local/s3-objects.ts");
      const client = await s3Client(s3CompatibleAccess(opts.endpoint, keysFromEnv(ctx)));
      const to = resolve(opts.to ?? basename(opts.from.prefix));
      const size = await downloadObject(client, { bucket: opts.from.bucket, key: opts.from.prefix, to });
      ctx.out(`downloaded s3://${opts.from.bucket}/${opts.from.prefix} (${size} bytes) to ${to}`);
    });
}

function keysFromEnv(ctx: CliContext): S3Credentials {
  const accessKey = ctx.env.ORCHARD_S3_ACCESS_KEY;
  const secretKey = ctx.env.ORCHARD_S3_SECRET_KEY;
  if (!accessKey || !secretKey || secretKey.length < 8 || accessKey.length < 3) {
    throw new ConfigError({
      field: "ORCHARD_S3_ACCESS_KEY / ORCHARD_S3_SECRET_KEY",
      expected: "both set in the environment (access key 3+ characters, secret key 8+)",
    });
  }
  return { accessKeyId: accessKey, secretAccessKey: secretKey };
}
