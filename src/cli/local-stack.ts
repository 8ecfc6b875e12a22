import { type DeviceChoice, sidecarStatus, startSidecar } from "@orchard/udf-server";
import { isLoopbackHost, parseConnectionUrl, redactUrl } from "../connect/connection-url.ts";
import { SparkConnectionError } from "../connect/errors.ts";
import { SetupError } from "../errors.ts";
import type { S3Access } from "../s3.ts";
import type { CliContext } from "./cli-context.ts";
import { canConnect } from "./local/ports.ts";
import { startLocalSpark } from "./local/spark-server.ts";
import { checkServedModel } from "./sidecar-model.ts";

/**
 * Makes sure the parts a local run needs answer: the Spark Connect server at `remote` and the
 * sidecar at `sidecar`. What is not reachable on loopback is started (and stopped again by
 * `stop()`, unless the caller keeps it); a remote that is not loopback is never started from here.
 * A local sidecar that already runs must accept this node's secret (`secretFile`) and serve
 * `model` (a ConfigError naming `--model` otherwise); one started here writes its secret there.
 */
export interface LocalStack {
  /** What this call started, e.g. `["spark sc://127.0.0.1:15002", "sidecar 127.0.0.1:8815"]`. */
  readonly started: readonly string[];
  /** Stops exactly what this call started. */
  stop(): Promise<void>;
}

export async function ensureLocalStack(
  {
    remote,
    sidecar,
    model,
    device,
    startSpark,
    s3,
    secretFile,
  }: {
    remote: string;
    sidecar: string;
    model: string;
    /** Where a sidecar started here runs the model (`--device`; default: the sidecar's, cpu). */
    device?: DeviceChoice;
    startSpark: boolean;
    s3?: S3Access;
    secretFile: string;
  },
  ctx: CliContext,
): Promise<LocalStack> {
  const say = ctx.err;
  const started: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const url = parseConnectionUrl(remote);
    const sparkUp = await canConnect(url.host === "localhost" ? "127.0.0.1" : url.host, url.port, 2000);
    const sparkLocal = isLoopbackHost(url.host);
    if (!sparkUp) {
      if (!startSpark || !sparkLocal) {
        throw new SparkConnectionError({ url: redactUrl(remote), detail: "nothing listens there" });
      }
      say(`starting a local Spark Connect server on 127.0.0.1:${url.port} (local[2]) ...`);
      const spark = await startLocalSpark({
        port: url.port,
        logDir: ctx.runDir,
        layout: ctx.layout,
        env: ctx.env,
        ...(s3 ? { s3 } : {}),
      });
      started.push(`spark ${spark.remote}`);
      stops.push(spark.stop);
    }
    // The sidecar serves the executors: locally that is this machine, so it must run here.
    const [host, port] = sidecar.split(":") as [string, string];
    if (sparkLocal && isLoopbackHost(host)) {
      const status = await sidecarStatus(sidecar, 2000, secretFile);
      if (!status.reachable) {
        say(`starting the sidecar on ${sidecar} (model ${model}) ...`);
        const handle = await startSidecar({
          host,
          port: Number(port),
          model,
          ...(device === undefined ? {} : { device }),
          cacheDir: ctx.layout.cacheRoot,
          secretFile,
          env: { ...ctx.env },
        });
        started.push(`sidecar ${handle.address}`);
        stops.push(() => handle.stop());
      } else if (status.info === undefined) {
        throw new SetupError({
          component: "sidecar",
          message: `a sidecar answers at ${sidecar}, but not to this node's secret (${secretFile}): ${status.error ?? "no info"}; stop it, or point ORCHARD_SIDECAR_SECRET_FILE at its secret file`,
        });
      } else {
        checkServedModel({ address: sidecar, requested: model, served: status.info.model });
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { started, stop };
}
