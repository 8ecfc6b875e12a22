/**
 * Where `orchard estimate` takes its images/s per core from, first found wins: the file
 * `--throughput` names; the figures `bench/pipeline` last wrote on this machine
 * (`<cache>/bench/pipeline.json`, machine output, never committed); the committed default
 * `emr/throughput.json` (figures the project measured, with their date and machine).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EMR_FILES, emrFile, readJsonFile } from "./emr-files.ts";
import { parseThroughput, type Throughput } from "./estimate.ts";

/** Which of the three places the figures came from. */
export type ThroughputOrigin = "--throughput" | "bench/pipeline on this machine" | "committed default";

/** The figures and where they came from. */
export interface ThroughputSource {
  readonly throughput: Throughput;
  readonly path: string;
  readonly origin: ThroughputOrigin;
}

/** The file bench/pipeline writes its figures to under the cache root `cacheRoot`. */
export function benchFiguresFile(cacheRoot: string): string {
  return join(cacheRoot, "bench", "pipeline.json");
}

/**
 * Reads the figures from `flag` when given, else from {@link benchFiguresFile} when it exists,
 * else from `emr/throughput.json`. A file that cannot be read, is not JSON, or lacks a field is a
 * ConfigError naming the file (and `--throughput` when given) and the field.
 */
export function loadThroughput({ flag, cacheRoot }: { flag?: string; cacheRoot: string }): ThroughputSource {
  const bench = benchFiguresFile(cacheRoot);
  const [path, origin]: [string, ThroughputOrigin] =
    flag !== undefined
      ? [flag, "--throughput"]
      : existsSync(bench)
        ? [bench, "bench/pipeline on this machine"]
        : [emrFile(EMR_FILES.throughput), "committed default"];
  const field = flag !== undefined ? `--throughput ${path}` : `throughput file ${path}`;
  return { throughput: parseThroughput(readJsonFile(path, field), field), path, origin };
}
