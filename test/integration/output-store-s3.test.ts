import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import { outputStore } from "../../src/pipeline/output-store.ts";
import { ATTEMPTS_FOLDER, newAttempt, type PublishStep, publishOutput } from "../../src/pipeline/publish-output.ts";
import { s3Client } from "../../src/s3.ts";

// The output store's folder operations on a real S3 server (MinIO), which the publication of a
// run relies on: S3 has no folders and no rename, so each is made of listings, copies and deletes.

const s3 = inject("s3");
const base = `s3a://${s3.bucket}/output-store-${Date.now()}`;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("the S3 output store", () => {
  it("tells a folder from an object and from a sibling with a longer name", async () => {
    const store = outputStore(`${base}/exists`, s3);
    await store.put("data-old/x", "1", "text/plain");
    await store.put("report.html", "r", "text/html");
    expect(await store.exists("data")).toBe(false);
    await store.put("data/part-0.parquet", "p", "application/octet-stream");
    expect(await store.exists("data")).toBe(true);
    expect(await store.exists("report.html")).toBe(true);
    expect(await store.exists("report")).toBe(false);
    expect(await store.list("data")).toEqual(["part-0.parquet"]);
    expect(await outputStore(base, s3).list("exists")).toEqual(["data", "data-old", "report.html"]);
  });

  it("moves a folder with every object under it, names with spaces and '=' included, and refuses a target that exists", async () => {
    const store = outputStore(`${base}/move`, s3);
    const names = ["a.parquet", "label=apple/b c.parquet", "_SUCCESS"];
    for (const n of names) await store.put(`from/${n}`, n, "application/octet-stream");
    await store.move("from", "to");
    expect(await store.exists("from")).toBe(false);
    for (const n of names) expect(text(await store.get(`to/${n}`))).toBe(n);
    await store.put("other/x", "x", "text/plain");
    await expect(store.move("other", "to")).rejects.toThrow(/the target exists/);
    expect(text(await store.get("other/x"))).toBe("x");
  });

  it("removes a folder, only that one, and aborts the multipart uploads pending under it", async () => {
    const store = outputStore(`${base}/remove`, s3);
    await store.put("data/a", "a", "text/plain");
    await store.put("data-kept/b", "b", "text/plain");
    const client = await s3Client(s3);
    const prefix = `${base.replace(`s3a://${s3.bucket}/`, "")}/remove`;
    await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${prefix}/data/pending.parquet` }));
    await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${prefix}/data-kept/p.parquet` }));
    await store.remove("data");
    expect(await store.exists("data")).toBe(false);
    expect(text(await store.get("data-kept/b"))).toBe("b");
    // (MinIO lists uploads by a whole key or all of them, not by a prefix.)
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    const left = (uploads.Uploads ?? []).map((u) => u.Key).filter((k) => k?.startsWith(`${prefix}/`));
    expect(left).toEqual([`${prefix}/data-kept/p.parquet`]);
  });

  it("publishes a run over another: readers see the old run, none, then the new one", async () => {
    const output = `${base}/publish`;
    const store = outputStore(output, s3);
    const stage = async (runId: string, relative: string, files: string[]) => {
      for (const f of files) await store.put(`${relative}/data/${f}`, f, "application/octet-stream");
      await store.put(`${relative}/pca-model/metadata/part-00000`, runId, "text/plain");
      return `${JSON.stringify({ runId, files })}\n`;
    };
    const read = async () => {
      if (!(await store.exists("run.json"))) return "none";
      const record = JSON.parse(text(await store.get("run.json"))) as { runId: string; files: string[] };
      const files = (await store.list("data")).filter((f) => !f.startsWith("_"));
      const model = text(await store.get("pca-model/metadata/part-00000"));
      const whole = JSON.stringify(files) === JSON.stringify(record.files) && model === record.runId;
      return whole ? record.runId : `partial: ${files} under ${record.runId}`;
    };
    const first = newAttempt(output);
    const firstJson = await stage(first.runId, first.relative, ["a.parquet"]);
    await publishOutput(store, { attempt: first, parts: ["data", "pca-model"], mode: "replace", runJson: firstJson });
    expect(await read()).toBe(first.runId);

    const second = newAttempt(output);
    const secondJson = await stage(second.runId, second.relative, ["b.parquet", "c.parquet"]);
    const seen: [PublishStep | "end", string][] = [];
    await publishOutput(store, {
      attempt: second,
      parts: ["data", "pca-model"],
      mode: "replace",
      runJson: secondJson,
      onStep: async (s) => {
        seen.push([s, await read()]);
      },
    });
    seen.push(["end", await read()]);
    expect(seen).toEqual([
      ["intent", first.runId],
      ["withdraw", first.runId],
      ["move", "none"],
      ["publish", "none"],
      ["clean", second.runId],
      ["end", second.runId],
    ]);
    expect(await store.list(ATTEMPTS_FOLDER)).toEqual([]);
    expect(await store.list("data")).toEqual(["b.parquet", "c.parquet"]);
  });
});
