import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";

// The option schemas (zod) load when a command runs, not when the program is built.
const options = () => import("./estimate-options.ts");

function hours(h: number): string {
  const minutes = Math.round(h * 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** `orchard estimate`: time and cost of a run on EMR, with its assumptions. */
export function registerEstimateCommand(program: Command, ctx: CliContext): void {
  program
    .command("estimate")
    .description(
      "time and cost of a run on AWS EMR, from this project's measured throughput and the on-demand prices in emr/",
    )
    .requiredOption("--images <n>", "number of images")
    .option("--instance-type <type>", "core nodes' instance type (default c6i.2xlarge)")
    .option("--nodes <k>", "number of core nodes (default 2)")
    .option("--primary-instance-type <type>", "primary node instance type (default m6i.xlarge)")
    .option("--region <region>", "region of the price table (default us-east-1)")
    .option("--startup-minutes <m>", "cluster start, provisioning and bootstrap (default 12)")
    .option(
      "--throughput <file>",
      "images/s per core, a JSON file written by bench/pipeline (default: <cache>/bench/pipeline.json when present, else emr/throughput.json)",
    )
    .option("--prices <file>", "price table (default emr/prices.json)")
    .option("--json", "print JSON")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).estimateOptions, raw);
      const files = await import("../../emr/emr-files.ts");
      const { estimate, parsePrices } = await import("../../emr/estimate.ts");
      const prices = parsePrices(
        files.readJsonFile(
          opts.prices ?? files.emrFile(files.EMR_FILES.prices),
          opts.prices ? "--prices" : "emr/prices.json",
        ),
        opts.prices ? "--prices" : "emr/prices.json",
      );
      const { loadThroughput } = await import("../../emr/throughput-file.ts");
      const source = loadThroughput({
        ...(opts.throughput ? { flag: opts.throughput } : {}),
        cacheRoot: ctx.layout.cacheRoot,
      });
      const e = estimate(
        {
          images: opts.images,
          instanceType: opts.instanceType,
          primaryInstanceType: opts.primaryInstanceType,
          nodes: opts.nodes,
          region: opts.region,
          startupMinutes: opts.startupMinutes,
          rootGb: 30,
          coreEbsGb: 64,
        },
        prices,
        source.throughput,
        source,
      );
      if (opts.json) {
        ctx.out(
          JSON.stringify({ ...opts, ...e, throughputFile: { path: source.path, origin: source.origin } }, null, 2),
        );
        return;
      }
      const money = (x: number) => `${x.toFixed(2)} ${e.currency}`;
      ctx.out(
        `${opts.images} images on ${opts.nodes} x ${opts.instanceType} (+ 1 x ${opts.primaryInstanceType} primary), ${opts.region}:`,
      );
      ctx.out(`  run      ${hours(e.workHours)} at ~${e.clusterImagesPerSecond.toFixed(0)} images/s`);
      ctx.out(`  total    ${hours(e.totalHours)} with the cluster's start`);
      ctx.out(
        `  cost     ${money(e.cost)} (${money(e.hourlyCost)} per hour; ${money(e.costPerMillion)} per million images once started)`,
      );
      ctx.out("assumptions:");
      for (const a of e.assumptions) ctx.out(`  - ${a}`);
    });
}
