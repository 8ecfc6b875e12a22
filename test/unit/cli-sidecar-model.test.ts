import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/cli/exit-codes.ts";
import { checkServedModel } from "../../src/cli/sidecar-model.ts";
import { ConfigError } from "../../src/errors.ts";

describe("checkServedModel: --model against the model the running sidecar serves", () => {
  const address = "127.0.0.1:8815";

  it("refuses a catalog name the sidecar does not serve: a ConfigError naming --model, exit 2, one line", () => {
    let err: unknown;
    try {
      checkServedModel({ address, requested: "mobilenet-v2", served: "efficientnet-lite0" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("--model");
    expect(exitCodeFor(err)).toBe(2);
    const message = (err as Error).message;
    expect(message).toMatch(/^--model mobilenet-v2: the sidecar at 127\.0\.0\.1:8815 serves efficientnet-lite0; /);
    expect(message).toContain("pass --model efficientnet-lite0");
    expect(message).toContain("orchard sidecar stop --port 8815");
    expect(message).not.toContain("\n");
  });

  it("passes the model the sidecar serves", () => {
    expect(() =>
      checkServedModel({ address, requested: "efficientnet-lite0", served: "efficientnet-lite0" }),
    ).not.toThrow();
  });

  it("decides nothing when the sidecar reported no model (not reachable)", () => {
    expect(() => checkServedModel({ address, requested: "mobilenet-v2", served: undefined })).not.toThrow();
  });

  it.each(["./models/mine.onnx", "/opt/models/mine", "mine.ONNX", "C:\\models\\mine"])(
    "decides nothing for a model given as a path (%s): the sidecar reports its manifest's name",
    (requested) => {
      expect(() => checkServedModel({ address, requested, served: "mine" })).not.toThrow();
    },
  );
});
