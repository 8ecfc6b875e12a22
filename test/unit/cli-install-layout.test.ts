import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installLayout, S3A_JAR_NAMES } from "../../src/cli/local/install-layout.ts";

const dir = mkdtempSync(join(tmpdir(), "orchard-layout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Spark home with `jars/` holding the given jar files. */
function sparkHome(name: string, jars: readonly string[]): string {
  const home = join(dir, name);
  mkdirSync(join(home, "jars"), { recursive: true });
  for (const jar of jars) writeFileSync(join(home, "jars", jar), "");
  return home;
}

describe("installLayout", () => {
  it("takes the S3A jars from the cache for the bundled Spark", () => {
    const layout = installLayout("/c");
    expect(layout.s3aJars).toEqual(S3A_JAR_NAMES.map((n) => `/c/spark/s3a/${n}`));
    expect(layout.sparkHome).toMatch(/^\/c\/spark\/venv\/lib\/python3[^/]*\/site-packages\/pyspark$/);
  });

  it.each([
    ["a Spark home whose jars/ holds every S3A jar needs none on --jars", [...S3A_JAR_NAMES], false],
    ["a Spark home missing one of them gets the cache's", [S3A_JAR_NAMES[0]], true],
    ["a Spark home without them gets the cache's", [], true],
  ])("%s", (name, jars, fromCache) => {
    const home = sparkHome(name.replaceAll(" ", "-"), jars);
    const layout = installLayout("/c", home);
    expect(layout.sparkHome).toBe(home);
    expect(layout.s3aJars).toEqual(fromCache ? S3A_JAR_NAMES.map((n) => `/c/spark/s3a/${n}`) : []);
  });
});
