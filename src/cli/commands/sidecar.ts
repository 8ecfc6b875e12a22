import { readFileSync } from "node:fs";
import { DEFAULT_SIDECAR_PORT } from "@orchard/udf-server/defaults";
import type { Command } from "commander";
import { SetupError } from "../../errors.ts";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";
import { DEVICE_HELP } from "../device-help.ts";

// The option schemas (zod) load when a command runs, not when the program is built.
const options = () => import("./sidecar-options.ts");

// Loaded when a command runs, not when the program is built: `orchard --help` stays fast.
const udfServer = () => import("@orchard/udf-server");
const processes = () => import("@orchard/udf-server/process");

/** `orchard sidecar start|stop|status`: the local featurizing sidecar (Arrow Flight, one per node). */
export function registerSidecarCommand(program: Command, ctx: CliContext): void {
  const sidecar = program
    .command("sidecar")
    .description("start, stop or inspect the local featurizing sidecar (Arrow Flight, one warm model per node)");

  sidecar
    .command("start")
    .description(`start the sidecar on loopback (detached; pid file and log in ${ctx.runDir})`)
    .option("--port <n>", `Flight port (default ${DEFAULT_SIDECAR_PORT})`)
    .option("--host <addr>", "address to bind (default 127.0.0.1)")
    .option("--model <name|path>", "catalog model name or .onnx path (default efficientnet-lite0)")
    .option("--threads <n>", "ONNX Runtime threads (default: all cores)")
    .option("--device <cpu|cuda|auto>", DEVICE_HELP)
    .option("--max-batch <n>", "largest batch across streams (default 16)")
    .option("--max-wait-ms <n>", "longest wait for a batch to fill (default 5)")
    .option("--idle-exit <seconds>", "exit after this long without work (default 0 = never)")
    .option("--timeout <seconds>", "how long to wait for start-up (default 300)")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).sidecarStartOptions, raw);
      const { ensureLocalSidecar, readPidRecord, sidecarRunFiles } = await udfServer();
      const files = sidecarRunFiles(ctx.runDir, opts.port);
      const { started, address } = await ensureLocalSidecar({
        host: opts.host,
        port: opts.port,
        runDir: ctx.runDir,
        timeoutMs: opts.timeout * 1000,
        log: (m) => ctx.err(m),
        start: {
          model: opts.model,
          device: opts.device,
          maxBatch: opts.maxBatch,
          cacheDir: ctx.layout.cacheRoot,
          idleExitSeconds: opts.idleExit,
          extraArgs: ["--max-wait-ms", String(opts.maxWaitMs)],
          ...(opts.threads === undefined ? {} : { threads: opts.threads }),
        },
      });
      const record = readPidRecord(files.pidFile);
      ctx.out(
        started
          ? `sidecar started: ${address} (pid ${record?.pid ?? "?"}, model ${record?.model ?? opts.model})`
          : `a sidecar already answers at ${address}${record ? ` (pid ${record.pid})` : ""}`,
      );
      ctx.out(`log: ${files.logFile}`);
      ctx.out(`secret: ${files.secretFile} (0600; the bridges on this node read it)`);
      ctx.out(`use it: ORCHARD_SIDECAR=${address}; stop it: orchard sidecar stop --port ${opts.port}`);
    });

  sidecar
    .command("stop")
    .description("stop the local sidecar on a port (exactly the process in its pid file; drains in-flight work)")
    .option("--port <n>", `Flight port (default ${DEFAULT_SIDECAR_PORT})`)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).sidecarPortOptions, raw);
      const { readPidRecord, SIDECAR_GRACE_MS, sidecarRunFiles } = await udfServer();
      const { isAlive, stopProcessGroup } = await processes();
      const { pidFile } = sidecarRunFiles(ctx.runDir, opts.port);
      const record = readPidRecord(pidFile);
      if (!record || !isAlive(record.pid) || !isSidecarProcess(record.pid)) {
        ctx.out(`no local sidecar started by orchard on port ${opts.port}`);
        return;
      }
      const { forced } = await stopProcessGroup(record.pid, SIDECAR_GRACE_MS);
      ctx.out(
        `stopped the sidecar on port ${opts.port} (pid ${record.pid}${forced ? ", forced after the grace period" : ""})`,
      );
    });

  sidecar
    .command("status")
    .description("show whether a sidecar answers on a port, with its model and load (exit code 3 when none does)")
    .option("--port <n>", `Flight port (default ${DEFAULT_SIDECAR_PORT})`)
    .option("--json", "print the status as JSON")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).sidecarPortOptions, raw);
      const { readPidRecord, sidecarRunFiles, sidecarStatus } = await udfServer();
      const files = sidecarRunFiles(ctx.runDir, opts.port);
      const record = readPidRecord(files.pidFile);
      const status = await sidecarStatus(record?.address ?? `127.0.0.1:${opts.port}`, 2000, files.secretFile);
      if (opts.json) ctx.out(JSON.stringify({ port: opts.port, pidFile: record ?? null, ...status }));
      if (!status.reachable) {
        throw new SetupError({
          component: "sidecar",
          message: `no sidecar answers on port ${opts.port} (start one with: orchard sidecar start --port ${opts.port})`,
        });
      }
      if (!opts.json) {
        const { health, info } = status;
        ctx.out(`running: ${status.address} (pid ${health?.pid}, up ${health?.uptimeSeconds} s)`);
        if (info) {
          ctx.out(
            `model: ${info.model} ${info.version} sha256 ${info.sha256} (input ${info.inputSize.join("x")}, ${info.featureDim} features, ${info.threads} threads)`,
          );
          ctx.out(
            `batching: max ${info.batching.maxBatch} images, wait ${info.batching.maxWaitMs} ms; now ${health?.activeExchanges} exchange(s), ${health?.queued} queued; served ${health?.images} image(s) in ${health?.batches} batch(es)`,
          );
          ctx.out(`rows answered: ${info.rowsServed} with features, ${info.rowsFailed} with an error`);
        } else {
          ctx.out(`model: unknown (${status.error ?? "no info"}; secret file ${files.secretFile})`);
        }
        if (record) ctx.out(`log: ${files.logFile}`);
      }
    });
}

/** Only signal a pid that is still an orchard sidecar (pids get reused). */
function isSidecarProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("orchard-sidecar");
  } catch {
    return false;
  }
}
