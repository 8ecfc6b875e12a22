import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { outputStore } from "../../src/pipeline/output-store.ts";
import {
  ATTEMPTS_FOLDER,
  abandonAttempt,
  newAttempt,
  type OutputAttempt,
  type PublishStep,
  publishOutput,
} from "../../src/pipeline/publish-output.ts";

// The publication protocol on a local folder, with a stand-in for Spark's output: each "run"
// writes part files into its attempt folder, and its run.json lists them. A reader requires
// run.json and accepts data/ only when it holds exactly the files run.json lists.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function outputFolder(): { root: string; uri: string } {
  const root = mkdtempSync(join(tmpdir(), "orchard-publish-"));
  dirs.push(root);
  const out = join(root, "out");
  return { root: out, uri: pathToFileURL(out).href };
}

/** What Spark and the driver leave in an attempt folder: data/ with part files, pca-model/, report.html. */
function stage(root: string, attempt: OutputAttempt, files: string[]): string {
  const at = join(root, attempt.relative);
  mkdirSync(join(at, "data"), { recursive: true });
  for (const f of files) writeFileSync(join(at, "data", f), `rows of ${f}`);
  writeFileSync(join(at, "data", "_SUCCESS"), "");
  mkdirSync(join(at, "pca-model", "metadata"), { recursive: true });
  writeFileSync(join(at, "pca-model", "metadata", "part-00000"), attempt.runId);
  writeFileSync(join(at, "report.html"), `<p>${attempt.runId}</p>`);
  return `${JSON.stringify({ runId: attempt.runId, files })}\n`;
}

type Seen = { state: "none" } | { state: "complete"; runId: string } | { state: "partial"; detail: string };

/** A reader as the docs tell readers to be: no run.json, no output; else data/ must be what it lists. */
function read(root: string): Seen {
  if (!existsSync(join(root, "run.json"))) return { state: "none" };
  const record = JSON.parse(readFileSync(join(root, "run.json"), "utf8")) as { runId: string; files: string[] };
  const files = existsSync(join(root, "data"))
    ? readdirSync(join(root, "data"))
        .filter((f) => !f.startsWith("_") && !f.startsWith("."))
        .sort()
    : [];
  const model = existsSync(join(root, "pca-model", "metadata", "part-00000"))
    ? readFileSync(join(root, "pca-model", "metadata", "part-00000"), "utf8")
    : "";
  if (JSON.stringify(files) !== JSON.stringify([...record.files].sort()) || model !== record.runId) {
    return {
      state: "partial",
      detail: `run.json ${record.runId} lists ${record.files}, data/ holds ${files}, model ${model}`,
    };
  }
  return { state: "complete", runId: record.runId };
}

const PARTS = ["data", "pca-model", "report.html"];

/** An output folder holding one published run (`first`, data `a.parquet`), and its store. */
async function publishedOutput() {
  const { root, uri } = outputFolder();
  const store = outputStore(uri);
  const first = newAttempt(uri);
  await publishOutput(store, {
    attempt: first,
    parts: PARTS,
    mode: "replace",
    runJson: stage(root, first, ["a.parquet"]),
  });
  return { root, uri, store, first };
}

describe("publishOutput on a local folder", () => {
  it("publishes a first run: the parts in place, run.json last, no attempt folder left", async () => {
    const { root, uri } = outputFolder();
    const store = outputStore(uri);
    const attempt = newAttempt(uri);
    expect(attempt.uri).toBe(`${uri}/${ATTEMPTS_FOLDER}/${attempt.runId}`);
    expect(attempt.runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    const runJson = stage(root, attempt, ["part-0.parquet", "part-1.parquet"]);
    expect(read(root)).toEqual({ state: "none" });

    const seenAt: [PublishStep, Seen][] = [];
    await publishOutput(store, {
      attempt,
      parts: PARTS,
      mode: "replace",
      runJson,
      onStep: (s) => {
        seenAt.push([s, read(root)]);
      },
    });
    expect(seenAt.map(([s]) => s)).toEqual(["intent", "withdraw", "move", "publish", "clean"]);
    expect(seenAt.every(([, seen]) => seen.state !== "partial")).toBe(true);
    expect(read(root)).toEqual({ state: "complete", runId: attempt.runId });
    expect(readFileSync(join(root, "report.html"), "utf8")).toContain(attempt.runId);
    expect(readdirSync(root).sort()).toEqual(["data", "pca-model", "report.html", "run.json"]);
  });

  it("replaces a published run: readers see the old run, then none, then the new one, never a mix", async () => {
    const { root, uri, store, first } = await publishedOutput();
    const second = newAttempt(uri);
    const runJson = stage(root, second, ["b.parquet", "c.parquet"]);

    const seen: Seen[] = [];
    await publishOutput(store, {
      attempt: second,
      parts: PARTS,
      mode: "replace",
      runJson,
      onStep: () => {
        seen.push(read(root));
      },
    });
    seen.push(read(root));
    expect(seen).toEqual([
      { state: "complete", runId: first.runId }, // intent
      { state: "complete", runId: first.runId }, // withdraw: run.json still the old one
      { state: "none" }, // move
      { state: "none" }, // publish
      { state: "complete", runId: second.runId }, // clean
      { state: "complete", runId: second.runId },
    ]);
    expect(existsSync(join(root, ATTEMPTS_FOLDER))).toBe(false);
  });

  for (const crashAt of ["intent", "withdraw", "move", "publish", "clean"] as const) {
    it(`a publication killed at "${crashAt}" leaves the old run or none, and a rerun publishes`, async () => {
      const { root, uri } = outputFolder();
      const store = outputStore(uri);
      const first = newAttempt(uri);
      await publishOutput(store, {
        attempt: first,
        parts: PARTS,
        mode: "replace",
        runJson: stage(root, first, ["a.parquet"]),
      });
      const killed = newAttempt(uri);
      const killedJson = stage(root, killed, ["k1.parquet", "k2.parquet"]);
      const crash = new Error(`killed at ${crashAt}`);
      await expect(
        publishOutput(store, {
          attempt: killed,
          parts: PARTS,
          mode: "replace",
          runJson: killedJson,
          onStep: (s) => {
            if (s === crashAt) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      const after = read(root);
      expect(after.state).not.toBe("partial");
      if (crashAt === "intent" || crashAt === "withdraw")
        expect(after).toEqual({ state: "complete", runId: first.runId });
      if (crashAt === "move" || crashAt === "publish") expect(after).toEqual({ state: "none" });
      if (crashAt === "clean") expect(after).toEqual({ state: "complete", runId: killed.runId });

      const rerun = newAttempt(uri);
      await publishOutput(store, {
        attempt: rerun,
        parts: PARTS,
        mode: "replace",
        runJson: stage(root, rerun, ["r.parquet"]),
      });
      expect(read(root)).toEqual({ state: "complete", runId: rerun.runId });
      // The killed run's attempt folder went with the rerun's publication.
      expect(existsSync(join(root, ATTEMPTS_FOLDER))).toBe(false);
    });
  }

  /** An incremental run's attempt: new part files in data/ and files/, its report; no model. */
  function stageAppend(root: string, attempt: OutputAttempt, files: string[], all: string[]): string {
    const at = join(root, attempt.relative);
    for (const part of ["data", "files"]) {
      mkdirSync(join(at, part), { recursive: true });
      for (const f of files) writeFileSync(join(at, part, f), `${part} of ${f}`);
      writeFileSync(join(at, part, "_SUCCESS"), "");
    }
    writeFileSync(join(at, "report.html"), `<p>${attempt.runId}</p>`);
    return `${JSON.stringify({ runId: attempt.runId, files: all })}\n`;
  }

  /** The reader of an appended output: data/ and files/ must both hold what run.json lists. */
  function readAppended(root: string): Seen {
    if (!existsSync(join(root, "run.json"))) return { state: "none" };
    const record = JSON.parse(readFileSync(join(root, "run.json"), "utf8")) as { runId: string; files: string[] };
    for (const part of ["data", "files"]) {
      const held = readdirSync(join(root, part))
        .filter((f) => !f.startsWith("_") && !f.startsWith("."))
        .sort();
      if (JSON.stringify(held) !== JSON.stringify([...record.files].sort())) {
        return { state: "partial", detail: `run.json ${record.runId} lists ${record.files}, ${part}/ holds ${held}` };
      }
    }
    return { state: "complete", runId: record.runId };
  }

  async function publishedFirst(): Promise<{ root: string; uri: string; first: OutputAttempt }> {
    const { root, uri } = outputFolder();
    const first = newAttempt(uri);
    await publishOutput(outputStore(uri), {
      attempt: first,
      parts: ["data", "files", "report.html"],
      mode: "replace",
      runJson: stageAppend(root, first, ["a.parquet"], ["a.parquet"]),
    });
    return { root, uri, first };
  }

  it("appends: the attempt's data/ and files/ files join the published ones, readers never see a part", async () => {
    const { root, uri, first } = await publishedFirst();
    const more = newAttempt(uri);
    const runJson = stageAppend(root, more, ["b.parquet", "c.parquet"], ["a.parquet", "b.parquet", "c.parquet"]);
    const seen: Seen[] = [];
    await publishOutput(outputStore(uri), {
      attempt: more,
      parts: ["data", "files", "report.html"],
      mode: "append",
      runJson,
      onStep: () => {
        seen.push(readAppended(root));
      },
    });
    seen.push(readAppended(root));
    expect(seen).toEqual([
      { state: "complete", runId: first.runId }, // intent
      { state: "complete", runId: first.runId }, // withdraw
      { state: "none" }, // move
      { state: "none" }, // publish
      { state: "complete", runId: more.runId }, // clean
      { state: "complete", runId: more.runId },
    ]);
    // Spark's _SUCCESS of the appended job is not copied over the dataset's.
    expect(readdirSync(join(root, "data")).sort()).toEqual(["_SUCCESS", "a.parquet", "b.parquet", "c.parquet"]);
    expect(readFileSync(join(root, "report.html"), "utf8")).toContain(more.runId);
    expect(existsSync(join(root, ATTEMPTS_FOLDER))).toBe(false);
  });

  for (const crashAt of ["intent", "withdraw", "move", "publish", "clean"] as const) {
    it(`an append killed at "${crashAt}" leaves the old run or none; the next append publishes and cleans`, async () => {
      const { root, uri, first } = await publishedFirst();
      const killed = newAttempt(uri);
      const crash = new Error(`killed at ${crashAt}`);
      await expect(
        publishOutput(outputStore(uri), {
          attempt: killed,
          parts: ["data", "files", "report.html"],
          mode: "append",
          runJson: stageAppend(root, killed, ["k.parquet"], ["a.parquet", "k.parquet"]),
          onStep: (s) => {
            if (s === crashAt) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      const after = readAppended(root);
      if (crashAt === "intent" || crashAt === "withdraw")
        expect(after).toEqual({ state: "complete", runId: first.runId });
      if (crashAt === "move" || crashAt === "publish") expect(after).toEqual({ state: "none" });
      if (crashAt === "clean") expect(after).toEqual({ state: "complete", runId: killed.runId });
      if (crashAt === "intent" || crashAt === "withdraw") {
        // Nothing moved: the next incremental run appends to the first run's output.
        const next = newAttempt(uri);
        await publishOutput(outputStore(uri), {
          attempt: next,
          parts: ["data", "files", "report.html"],
          mode: "append",
          runJson: stageAppend(root, next, ["n.parquet"], ["a.parquet", "n.parquet"]),
        });
        expect(readAppended(root)).toEqual({ state: "complete", runId: next.runId });
        expect(existsSync(join(root, ATTEMPTS_FOLDER))).toBe(false);
      }
    });
  }

  it("refuses an attempt that lacks a part, and changes nothing", async () => {
    const { root, uri, store, first } = await publishedOutput();
    const broken = newAttempt(uri);
    const runJson = stage(root, broken, ["b.parquet"]);
    rmSync(join(root, broken.relative, "data"), { recursive: true });
    await expect(publishOutput(store, { attempt: broken, parts: PARTS, mode: "replace", runJson })).rejects.toThrow(
      /its data is missing/,
    );
    expect(read(root)).toEqual({ state: "complete", runId: first.runId });
  });

  it("withdraws a published part the new run does not write (orchard fit after orchard run)", async () => {
    const { root, uri, store } = await publishedOutput();
    const fit = newAttempt(uri);
    stage(root, fit, []);
    rmSync(join(root, fit.relative, "data"), { recursive: true });
    await publishOutput(store, {
      attempt: fit,
      parts: ["pca-model", "report.html"],
      withdrawn: ["data"],
      mode: "replace",
      runJson: `${JSON.stringify({ runId: fit.runId, files: [] })}\n`,
    });
    expect(existsSync(join(root, "data"))).toBe(false);
    expect(read(root)).toEqual({ state: "complete", runId: fit.runId });
  });

  it("abandonAttempt deletes a failed run's attempt and leaves the published output", async () => {
    const { root, uri, store, first } = await publishedOutput();
    const failed = newAttempt(uri);
    stage(root, failed, ["f.parquet"]);
    await abandonAttempt(store, failed);
    expect(existsSync(join(root, ATTEMPTS_FOLDER))).toBe(false);
    expect(read(root)).toEqual({ state: "complete", runId: first.runId });
  });
});

describe("the local store's put", () => {
  it("replaces a file in one rename and leaves no temporary file", async () => {
    const { root, uri } = outputFolder();
    const store = outputStore(uri);
    await store.put("run.json", "old", "application/json");
    await store.put("run.json", "new", "application/json");
    expect(readFileSync(join(root, "run.json"), "utf8")).toBe("new");
    expect(readdirSync(root)).toEqual(["run.json"]);
  });
});
