import { statSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  generateSecret,
  readSecretFile,
  SidecarAuthError,
  serverProof,
} from "../../udf-server/src/auth/sidecar-secret.ts";
import { FlightCallError, FlightClient } from "../../udf-server/src/flight/client.ts";
import { sidecarStatus } from "../../udf-server/src/manage/sidecar-status.ts";
import { checkModel, ModelMismatchError, verifySidecar } from "../../udf-server/src/manage/verify-sidecar.ts";
import { type FlightServer, startFlightServer } from "../../udf-server/src/server/flight-server.ts";
import { type FakeFlightServer, startFakeFlightServer } from "../support/fake-flight-server.ts";
import { testFeaturizer } from "./flight-test-featurizer.ts";
import { TEST_SECRET, testSecretFile } from "./test-secret.ts";

const enc = new TextEncoder();

async function start() {
  const featurizer = testFeaturizer();
  const server = await startFlightServer(featurizer, {
    host: "127.0.0.1",
    port: 0,
    batching: { maxBatch: 8, maxWaitMs: 2, maxConcurrentBatches: 1 },
    limits: { maxPendingPerStream: 64, maxQueued: 256, maxBatchRows: 4096 },
    maxMessageBytes: 64 * 1024 * 1024,
    secret: TEST_SECRET,
  });
  return { server, featurizer };
}

async function exchangeError(client: FlightClient): Promise<FlightCallError> {
  const ex = client.featureExchange();
  const drained = (async () => {
    for await (const _ of ex.batches()) {
      // an unauthenticated call yields nothing
    }
  })();
  await ex.send(["a"], [enc.encode("image-a")]).catch(() => undefined);
  ex.end();
  return drained.then(
    () => {
      throw new Error("the exchange succeeded");
    },
    (err: FlightCallError) => err,
  );
}

describe("the sidecar's shared secret", () => {
  let server: FlightServer | undefined;
  let fake: FakeFlightServer | undefined;
  const clients: FlightClient[] = [];
  const client = (address: string, options: ConstructorParameters<typeof FlightClient>[1] = {}) => {
    const c = new FlightClient(address, options);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close(500);
    await fake?.close();
    server = undefined;
    fake = undefined;
  });

  it("is kept in a 0600 file, 64 hex characters, a new one each time", () => {
    const a = generateSecret();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(generateSecret()).not.toBe(a);
    const file = testSecretFile(a);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readSecretFile(file)).toBe(a);
    expect(() => readSecretFile(`${file}.missing`)).toThrow(SidecarAuthError);
  });

  it("refuses info, ListActions and DoExchange without it or with a wrong one (UNAUTHENTICATED), reading no image", async () => {
    const started = await start();
    server = started.server;
    for (const options of [{}, { secret: "ab".repeat(32) }]) {
      const c = client(server.address, options);
      // No secret: straight to the call; a wrong secret fails the server's proof first, so call raw.
      const raw = client(server.address);
      const calls: Array<() => Promise<unknown>> =
        "secret" in options
          ? [() => c.actionJson("info")]
          : [
              () => raw.actionJson("info"),
              () => raw.listActions(),
              () => exchangeError(raw).then((e) => Promise.reject(e)),
            ];
      for (const call of calls) {
        const err = await call().then(
          () => null,
          (e: unknown) => e,
        );
        if ("secret" in options) expect(err).toBeInstanceOf(SidecarAuthError);
        else {
          expect(err).toBeInstanceOf(FlightCallError);
          expect((err as FlightCallError).code).toBe(status.UNAUTHENTICATED);
          expect((err as Error).message).toMatch(/requires its shared secret/);
          expect((err as Error).message).not.toContain(TEST_SECRET);
        }
      }
    }
    expect(started.featurizer.batchSizes).toEqual([]);
    // With the secret everything answers.
    const ok = client(server.address, { secret: TEST_SECRET });
    expect((await ok.actionJson<{ model: string; sha256: string }>("info")).sha256).toBe("ab".repeat(32));
    expect((await ok.listActions()).map((a) => a.type).sort()).toEqual(["health", "info"]);
  });

  it("keeps health open, and answers a challenge in health with the HMAC proof", async () => {
    server = (await start()).server;
    const open = client(server.address);
    expect((await open.actionJson<{ status: string }>("health")).status).toBe("ok");
    const challenge = "c1".repeat(32);
    const h = await open.actionJson<{ proof?: string }>("health", 2000, enc.encode(challenge));
    expect(h.proof).toBe(serverProof(TEST_SECRET, challenge));
    expect(h.proof).not.toContain(TEST_SECRET);
    expect((await open.actionJson<{ proof?: string }>("health")).proof).toBeUndefined();
    // sidecarStatus: health without the secret; info with it.
    expect((await sidecarStatus(server.address)).info).toBeUndefined();
    expect((await sidecarStatus(server.address, 2000, testSecretFile())).info?.model).toBe("test-double");
  });

  it("verifySidecar accepts the real sidecar and its model, and refuses another model or checksum", async () => {
    server = (await start()).server;
    const secretFile = testSecretFile();
    const info = await verifySidecar(server.address, {
      secretFile,
      expectModel: { name: "test-double", sha256: "ab".repeat(32) },
    });
    expect(info.model).toBe("test-double");
    await expect(
      verifySidecar(server.address, { secretFile, expectModel: { name: "efficientnet-lite0" } }),
    ).rejects.toThrow(ModelMismatchError);
    await expect(
      verifySidecar(server.address, { secretFile, expectModel: { name: "test-double", sha256: "cd".repeat(32) } }),
    ).rejects.toThrow(/serves model test-double \(sha256 a{0}(ab)+\).*asked for test-double \(sha256 (cd)+\)/);
    expect(() => checkModel("h:1", { model: "m", sha256: "ab".repeat(32) }, { name: "m" })).not.toThrow();
  });

  it("an impostor on the port that does not know the secret is refused, and never sees the secret nor an image", async () => {
    fake = await startFakeFlightServer();
    const secretFile = testSecretFile();
    await expect(
      verifySidecar(fake.address, { secretFile, expectModel: { name: "efficientnet-lite0" } }),
    ).rejects.toThrow(/did not prove that it knows the sidecar's secret/);
    // Clients with the secret never send it to the impostor either.
    const c = client(fake.address, { secretFile });
    await expect(c.actionJson("info")).rejects.toThrow(SidecarAuthError);
    await expect(c.listActions()).rejects.toThrow(SidecarAuthError);
    expect((await sidecarStatus(fake.address, 2000, secretFile)).info).toBeUndefined();
    expect(fake.calls.length).toBeGreaterThan(0);
    expect(fake.calls.every((call) => call.method === "DoAction(health)")).toBe(true);
    expect(fake.calls.every((call) => call.authorization === undefined)).toBe(true);
    expect(fake.rowsReceived).toBe(0);
  });
});
