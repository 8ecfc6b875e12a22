/**
 * `orchard estimate`: the time and cost of a run on EMR, from the images/s per core that
 * bench/pipeline measured (emr/throughput.json) and the on-demand price table (emr/prices.json).
 * Pure arithmetic; every assumption it makes is returned so the command can print it.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { zodToConfigError } from "./zod-error.ts";

const priceEntry = z.object({
  vcpu: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  ec2: z.number().positive(),
  emr: z.number().nonnegative(),
});

export const pricesSchema = z.object({
  format: z.literal("orchard-prices/1"),
  currency: z.string(),
  caution: z.string().optional(),
  sources: z.record(z.string(), z.string()),
  regions: z.record(
    z.string(),
    z.object({
      asOf: z.string(),
      checked: z.boolean(),
      ebsGp3PerGbMonth: z.number().nonnegative(),
      instances: z.record(z.string(), priceEntry),
    }),
  ),
});
export type Prices = z.output<typeof pricesSchema>;

export const throughputSchema = z.object({
  format: z.literal("orchard-throughput/1"),
  measured: z.string(),
  source: z.string(),
  machine: z.object({ cores: z.number().int().positive(), cpu: z.string(), loadAverage1m: z.number().optional() }),
  model: z.string(),
  imagesPerSecondPerCore: z.object({
    endToEnd: z.number().positive(),
    features: z.number().positive(),
    /** Images per CPU-second the bench's processes used: a core's rate when nothing else takes it. */
    cpuBound: z.number().positive().optional(),
  }),
  /** Per scale (bench/pipeline's 1x, 4x, 16x): the cost per image against the first scale's, and the PCA fit's share. */
  scales: z
    .array(
      z.object({ scale: z.number().positive(), coreCostRatio: z.number().positive(), pcaShare: z.number().min(0) }),
    )
    .optional(),
});
export type Throughput = z.output<typeof throughputSchema>;

export function parsePrices(raw: unknown, field: string): Prices {
  const r = pricesSchema.safeParse(raw);
  if (!r.success) throw zodToConfigError(r.error, field);
  return r.data;
}

export function parseThroughput(raw: unknown, field: string): Throughput {
  const r = throughputSchema.safeParse(raw);
  if (!r.success) throw zodToConfigError(r.error, field);
  return r.data;
}

export interface EstimateInput {
  images: number;
  instanceType: string;
  primaryInstanceType: string;
  nodes: number;
  region: string;
  /** Cluster start (provisioning + bootstrap) in minutes. */
  startupMinutes: number;
  /** Root volume per node and the extra EBS volume per core node, GB (as emr/cluster.json). */
  rootGb: number;
  coreEbsGb: number;
}

export interface Estimate {
  clusterImagesPerSecond: number;
  workHours: number;
  totalHours: number;
  hourlyCost: number;
  cost: number;
  costPerMillion: number;
  currency: string;
  assumptions: string[];
}

/**
 * The estimate for `input`. `from` says where the throughput figures came from (a file and why
 * that one, see throughput-file.ts); it is printed among the assumptions.
 */
export function estimate(
  input: EstimateInput,
  prices: Prices,
  throughput: Throughput,
  from?: { path: string; origin: string },
): Estimate {
  const region = prices.regions[input.region];
  if (!region) {
    throw new ConfigError({
      field: "--region",
      expected: `a region of the price table (${Object.keys(prices.regions).join(", ")})`,
    });
  }
  const core = region.instances[input.instanceType];
  const primary = region.instances[input.primaryInstanceType];
  const known = Object.keys(region.instances).join(", ");
  if (!core)
    throw new ConfigError({
      field: "--instance-type",
      expected: `an instance type of the ${input.region} price table (${known})`,
    });
  if (!primary) {
    throw new ConfigError({
      field: "--primary-instance-type",
      expected: `an instance type of the ${input.region} price table (${known})`,
    });
  }
  const perCore = throughput.imagesPerSecondPerCore.endToEnd;
  const clusterImagesPerSecond = perCore * core.vcpu * input.nodes;
  const workHours = input.images / clusterImagesPerSecond / 3600;
  const totalHours = workHours + input.startupMinutes / 60;
  const ebsGbHours = ((input.nodes + 1) * input.rootGb + input.nodes * input.coreEbsGb) / 730;
  const hourlyCost =
    primary.ec2 + primary.emr + input.nodes * (core.ec2 + core.emr) + ebsGbHours * region.ebsGp3PerGbMonth;
  const cost = hourlyCost * totalHours;
  const costPerMillion = hourlyCost * (1e6 / clusterImagesPerSecond / 3600);
  const load = throughput.machine.loadAverage1m;
  const cpuBound = throughput.imagesPerSecondPerCore.cpuBound;
  const scales = throughput.scales ?? [];
  const largest = scales[scales.length - 1];
  const assumptions = [
    `throughput: ${perCore} images/s per core end to end (features alone ${throughput.imagesPerSecondPerCore.features}${cpuBound === undefined ? "" : `; ${cpuBound} per CPU-second our processes used, the ceiling on an idle core`}), measured by ${throughput.source} on ${throughput.measured.slice(0, 10)} on a ${throughput.machine.cores}-core ${throughput.machine.cpu}${load === undefined ? "" : ` (load average ${load} while measuring)`}, model ${throughput.model}${from ? `; from ${from.path} (${from.origin})` : ""}`,
    `one EC2 vCPU of ${input.instanceType} does what one core did in that bench; executors run on the ${input.nodes} core nodes only (${core.vcpu} vCPUs each: ${clusterImagesPerSecond.toFixed(0)} images/s for the cluster), the primary runs the driver`,
    `the run scales linearly with the images and the nodes (the input is read in parallel; the PCA fit is a small share of the time${largest && scales.length > 1 ? `: the bench's cost per image at ${largest.scale}x was ${largest.coreCostRatio.toFixed(2)}x its ${scales[0]?.scale}x one, the PCA fit ${(100 * largest.pcaShare).toFixed(1)}% of the wall time` : ""})`,
    `cluster start (provisioning + bootstrap: Node.js, orchard, the model) ${input.startupMinutes} min, billed like the run`,
    `prices ${input.region}, ${prices.currency} per hour, on demand: ${input.primaryInstanceType} ${primary.ec2} EC2 + ${primary.emr} EMR; ${input.instanceType} ${core.ec2} EC2 + ${core.emr} EMR; EBS gp3 ${region.ebsGp3PerGbMonth}/GB-month (${input.rootGb} GB root per node, ${input.coreEbsGb} GB per core node); as of ${region.asOf}${region.checked ? "" : ", NOT re-checked against AWS: see emr/prices.json"}`,
    ...(load !== undefined && load > throughput.machine.cores
      ? [
          `WARNING: the bench ran on a busy machine (load average ${load} on ${throughput.machine.cores} cores), so this throughput is pessimistic: re-run bench/pipeline on a quiet machine (or pass --throughput FILE)`,
        ]
      : []),
    "not counted: S3 requests and storage, data transfer, the idle time before auto-termination (terminate with orchard emr down), spot discounts (--spot)",
  ];
  return {
    clusterImagesPerSecond,
    workHours,
    totalHours,
    hourlyCost,
    cost,
    costPerMillion,
    currency: prices.currency,
    assumptions,
  };
}
