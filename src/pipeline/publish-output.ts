import { randomBytes } from "node:crypto";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import type { OutputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";

/**
 * Atomic publication of an output folder, as Hadoop's committers do it for a job: a run writes
 * everything into a folder of its own, and only a complete, checked attempt is published, with
 * `run.json` written last as the completion marker.
 *
 * ```
 * OUT/run.json                 the marker: present = data/ and pca-model/ are one complete run
 * OUT/data/  OUT/pca-model/  OUT/report.html
 * OUT/_attempts/<runId>/       a run's private folder (Spark's readers skip names starting "_")
 * ```
 *
 * Readers require `run.json`: no `run.json`, no output. A run killed before its publication
 * leaves the published output as it was; one killed during it (a few renames on a local folder,
 * a server-side copy on S3) leaves no `run.json` (no output), with the new run complete in its
 * attempt folder; a rerun with `--overwrite` publishes afresh. The old output is deleted only once
 * the new one is complete and checked in its attempt folder.
 */

/** The folder inside an output folder that holds the runs' attempt folders. */
export const ATTEMPTS_FOLDER = "_attempts";

/** A run's private folder inside the output folder, where Spark writes before the publication. */
export interface OutputAttempt {
  /** Unique per run: `20261203T101500Z-1a2b3c4d5e6f` (UTC time, then 48 random bits). */
  readonly runId: string;
  /** The attempt folder's path inside the output folder: `_attempts/<runId>`. */
  readonly relative: string;
  /** Its URI, for Spark and for {@link outputStore}: `OUT/_attempts/<runId>`. */
  readonly uri: string;
}

/** A fresh attempt folder for a run into `output` (nothing is created until Spark writes). */
export function newAttempt(output: string, now: Date = new Date()): OutputAttempt {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const runId = `${stamp}-${randomBytes(6).toString("hex")}`;
  const relative = `${ATTEMPTS_FOLDER}/${runId}`;
  return { runId, relative, uri: outputPath(output, relative) };
}

/** What {@link publishOutput} publishes. */
export interface Publication {
  readonly attempt: OutputAttempt;
  /**
   * The parts the attempt holds, by their names in the output folder (`data`, `pca-model`,
   * `report.html`), each complete. A part that is not listed is left as it is.
   */
  readonly parts: readonly string[];
  /**
   * `replace`: each part replaces the published one (`orchard run --overwrite`, or a first run).
   * `append`: the files of the attempt's Parquet datasets (`data/`, `files/`) join the published
   * ones (Spark names each job's files uniquely), the other parts replace theirs; the new
   * `run.json` must count the whole dataset (`orchard run --incremental` with new files only).
   */
  readonly mode: "replace" | "append";
  /** Published parts the new run does not replace but which no longer belong to it: deleted. */
  readonly withdrawn?: readonly string[];
  /** The text of the new `run.json` (the caller's RunSummary, with `runId` = the attempt's). */
  readonly runJson: string;
  /** Called before each step (tests stop a publication there to check what readers would see). */
  readonly onStep?: (step: PublishStep) => void | Promise<void>;
}

/** The steps of a publication, in order. */
export type PublishStep = "intent" | "withdraw" | "move" | "publish" | "clean";

/** The parts an `append` adds files to: Parquet datasets. */
const APPENDED_PARTS: readonly string[] = [OUTPUT_LAYOUT.data, OUTPUT_LAYOUT.files];

/** The name a replaced part is moved to inside the attempt folder, until run.json is published. */
const PREVIOUS_FOLDER = "previous";

/**
 * Publishes a complete attempt: (1) writes the new `run.json` into the attempt folder, so the
 * attempt records what it holds; (2) deletes the published `run.json`: from here readers see no
 * output; (3) moves each part into place, the replaced one out of the way (locally into the
 * attempt folder, one rename each; on S3 deleted, as S3 has no rename; an `append` moves the new
 * files in one by one); (4) writes `run.json`: readers see the new output; (5) deletes the attempt
 * folder with what it replaced, and the folders that killed runs left in `_attempts/`. Only one
 * run at a time may write into an output folder.
 *
 * PySpark has no equivalent: its DataFrameWriter commits one folder at a time (through the output
 * committer), and an `overwrite` there deletes the old folder before the job starts.
 */
export async function publishOutput(store: OutputStore, publication: Publication): Promise<void> {
  const { attempt, parts, mode, runJson, withdrawn = [], onStep } = publication;
  const step = async (name: PublishStep) => onStep?.(name);
  for (const part of parts) {
    if (!(await store.exists(`${attempt.relative}/${part}`))) {
      throw new PipelineError({ message: `cannot publish ${attempt.uri}: its ${part} is missing` });
    }
  }

  await step("intent");
  await store.put(`${attempt.relative}/${OUTPUT_LAYOUT.runJson}`, runJson, "application/json");

  await step("withdraw");
  await store.remove(OUTPUT_LAYOUT.runJson);

  await step("move");
  const local = store.kind === "local";
  for (const part of parts) {
    const staged = `${attempt.relative}/${part}`;
    if (mode === "append" && APPENDED_PARTS.includes(part) && (await store.exists(part))) {
      for (const name of await store.list(staged)) {
        // Spark's markers (_SUCCESS) and hidden files describe the attempt's job, not the dataset.
        if (name.startsWith("_") || name.startsWith(".")) continue;
        await store.move(`${staged}/${name}`, `${part}/${name}`);
      }
      continue;
    }
    if (await store.exists(part)) {
      if (local) await store.move(part, `${attempt.relative}/${PREVIOUS_FOLDER}/${part}`);
      else await store.remove(part);
    }
    await store.move(staged, part);
  }
  for (const part of withdrawn) {
    if (parts.includes(part) || !(await store.exists(part))) continue;
    if (local) await store.move(part, `${attempt.relative}/${PREVIOUS_FOLDER}/${part}`);
    else await store.remove(part);
  }

  await step("publish");
  await store.put(OUTPUT_LAYOUT.runJson, runJson, "application/json");

  await step("clean");
  await store.remove(attempt.relative);
  for (const stale of await store.list(ATTEMPTS_FOLDER)) await store.remove(`${ATTEMPTS_FOLDER}/${stale}`);
  if ((await store.list(ATTEMPTS_FOLDER)).length === 0) await store.remove(ATTEMPTS_FOLDER);
}

/** Deletes an attempt that will not be published (a failed run's), with what it holds. */
export async function abandonAttempt(store: OutputStore, attempt: OutputAttempt): Promise<void> {
  await store.remove(attempt.relative);
  if ((await store.list(ATTEMPTS_FOLDER)).length === 0) await store.remove(ATTEMPTS_FOLDER);
}
