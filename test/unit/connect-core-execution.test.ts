import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import { InterruptedError } from "../../src/connect/errors.ts";
import { type ExecuteRpc, ReattachableExecution } from "../../src/connect/execution.ts";
import type { RetryPolicy } from "../../src/connect/retry-policy.ts";

/** The state machine of ReattachableExecution, driven by scripted streams (no network). */
type Step = { responses: string[]; complete?: boolean; error?: grpc.status };

function response(id: string, complete = false): pb.ExecutePlanResponse {
  return create(pb.ExecutePlanResponseSchema, {
    responseId: id,
    operationId: "op",
    responseType: complete
      ? { case: "resultComplete", value: create(pb.ExecutePlanResponse_ResultCompleteSchema) }
      : { case: "arrowBatch", value: create(pb.ExecutePlanResponse_ArrowBatchSchema, { rowCount: 0n }) },
  });
}

function scripted(steps: Step[], interruptHits: boolean[] = []) {
  const calls: string[] = [];
  const releases: (string | undefined)[] = [];
  let interrupts = 0;
  let i = 0;
  const next = () => {
    const step = steps[i++];
    if (step === undefined) throw new Error("no more scripted streams");
    return {
      cancel: () => undefined,
      async *[Symbol.asyncIterator]() {
        for (const id of step.responses) yield response(id);
        if (step.complete) yield response("done", true);
        if (step.error !== undefined) {
          throw Object.assign(new Error("scripted"), {
            code: step.error,
            details: "scripted",
            metadata: new grpc.Metadata(),
          });
        }
      },
    } as unknown as grpc.ClientReadableStream<pb.ExecutePlanResponse>;
  };
  const rpc: ExecuteRpc = {
    execute: () => {
      calls.push("execute");
      return next();
    },
    reattach: (_op, last) => {
      calls.push(`reattach:${last ?? "-"}`);
      return next();
    },
    release: async (_op, until) => {
      releases.push(until);
    },
    interrupt: async () => interruptHits[interrupts++] ?? true,
    convertError: async (e) => e as Error,
  };
  return { rpc, calls, releases, interrupts: () => interrupts };
}

const retry: RetryPolicy = { maxRetries: 2, initialBackoffMs: 1, maxBackoffMs: 2 };
const request = create(pb.ExecutePlanRequestSchema, { operationId: "op" });

async function drain(exec: ReattachableExecution): Promise<string[]> {
  const ids: string[] = [];
  for await (const r of exec) ids.push(r.responseId);
  return ids;
}

describe("ReattachableExecution", () => {
  it("reattaches from the last response id when the stream ends without ResultComplete", async () => {
    const s = scripted([{ responses: ["a", "b"] }, { responses: ["c"] }, { responses: ["d"], complete: true }]);
    const ids = await drain(new ReattachableExecution(s.rpc, request, retry));
    expect(ids).toEqual(["a", "b", "c", "d", "done"]);
    expect(s.calls).toEqual(["execute", "reattach:b", "reattach:c"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.releases).toEqual(["d", undefined]);
  });

  it("retries transport errors mid-stream, resetting the budget on progress", async () => {
    const s = scripted([
      { responses: ["a"], error: grpc.status.UNAVAILABLE },
      { responses: ["b"], error: grpc.status.INTERNAL },
      { responses: [], error: grpc.status.UNAVAILABLE },
      { responses: ["c"], complete: true },
    ]);
    expect(await drain(new ReattachableExecution(s.rpc, request, retry))).toEqual(["a", "b", "c", "done"]);
    expect(s.calls).toEqual(["execute", "reattach:a", "reattach:b", "reattach:b"]);
  });

  it("gives up after maxRetries consecutive failures without progress", async () => {
    const s = scripted([
      { responses: ["a"], error: grpc.status.UNAVAILABLE },
      { responses: [], error: grpc.status.UNAVAILABLE },
      { responses: [], error: grpc.status.UNAVAILABLE },
    ]);
    await expect(drain(new ReattachableExecution(s.rpc, request, retry))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    expect(s.calls).toHaveLength(3);
  });

  it("does not retry a non-transient error", async () => {
    const s = scripted([{ responses: [], error: grpc.status.INVALID_ARGUMENT }]);
    await expect(drain(new ReattachableExecution(s.rpc, request, retry))).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    expect(s.calls).toEqual(["execute"]);
  });

  it("releases consumed responses as it goes and everything at the end", async () => {
    const ids = Array.from({ length: 9 }, (_, k) => `r${k}`);
    const s = scripted([{ responses: ids, complete: true }]);
    await drain(new ReattachableExecution(s.rpc, request, retry));
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.releases).toEqual(["r3", "r7", undefined]);
  });

  it("a consumer that stops early interrupts and releases the operation", async () => {
    const s = scripted([{ responses: ["a", "b", "c"], complete: true }]);
    for await (const r of new ReattachableExecution(s.rpc, request, retry)) {
      if (r.responseId === "a") break;
    }
    expect(s.interrupts()).toBe(1);
    expect(s.releases).toEqual([undefined]);
  });

  it("an interrupt that finds no operation yet (a loaded server) is retried until it lands, then released", async () => {
    const s = scripted([{ responses: ["a", "b", "c"], complete: true }], [false, false, true]);
    for await (const r of new ReattachableExecution(s.rpc, request, retry)) {
      if (r.responseId === "a") break;
    }
    expect(s.interrupts()).toBe(1); // the consumer is released at once ...
    for (let i = 0; i < 40 && s.interrupts() < 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(s.interrupts()).toBe(3); // ... and the job is interrupted once the server knows it
    await new Promise((r) => setTimeout(r, 20));
    expect(s.releases).toEqual([undefined, undefined]);
  });

  it("an already aborted signal rejects before any RPC", async () => {
    const s = scripted([]);
    const c = new AbortController();
    c.abort();
    await expect(drain(new ReattachableExecution(s.rpc, request, retry, c.signal))).rejects.toBeInstanceOf(
      InterruptedError,
    );
    expect(s.calls).toEqual([]);
  });
});
