import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureLocalSidecar } from "../../udf-server/src/manage/ensure-local-sidecar.ts";

describe("ensureLocalSidecar when the port is held by a process that does not answer", () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  const runDir = mkdtempSync(join(tmpdir(), "orchard-ensure-"));
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    rmSync(runDir, { recursive: true, force: true });
  });

  it("fails at once, naming the held port, and starts no sidecar", async () => {
    // Accepts connections and never speaks: what a stopped (SIGSTOP) sidecar looks like from outside.
    server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", () => r()));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const logs: string[] = [];
    await expect(
      ensureLocalSidecar({ host: "127.0.0.1", port, runDir, timeoutMs: 60_000, log: (m) => logs.push(m) }),
    ).rejects.toThrow(/held by a process that does not answer health/);
    expect(logs.filter((m) => /starting one/.test(m))).toEqual([]);
  });
});
