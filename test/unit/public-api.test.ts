import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { exposedTypes, programOf } from "../support/public-api.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const entry = join(root, "src", "index.ts");
const fixture = join(root, "test", "support", "leaky-api.ts");
const isGenerated = (fileName: string) => fileName.startsWith(join(root, "src", "connect", "gen"));

describe("the package's public API shows no generated protobuf type", () => {
  const program = programOf(root, [entry, fixture]);

  it("finds them where a fixture shows them, and not in #private fields or private members", () => {
    const paths = exposedTypes(program, fixture, isGenerated).map((e) => e.path);
    expect(paths).toContain("Leaky.plan");
    expect(paths).toContain("new Leaky(plan)");
    expect(paths.filter((p) => p.endsWith(".onSchema(schema)"))).not.toEqual([]);
    expect(paths.some((p) => p.startsWith("Sealed") || p.includes("command"))).toBe(false);
  });

  it("finds none reachable from src/index.ts", () => {
    expect(exposedTypes(program, entry, isGenerated)).toEqual([]);
  });
}, 180_000);
