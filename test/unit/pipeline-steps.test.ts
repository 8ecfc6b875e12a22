import { describe, expect, it } from "vitest";
import { featurizePartitions, shapeOf } from "../../src/pipeline/cluster-cores.ts";
import { featurizeSql } from "../../src/pipeline/featurize.ts";
import { extensionGlob, extensionMatcher } from "../../src/pipeline/image-extensions.ts";
import { componentsFor } from "../../src/pipeline/reduce.ts";
import { outputColumns } from "../../src/pipeline/write.ts";

describe("componentsFor", () => {
  it.each([
    [[0.5, 0.3, 0.15, 0.05], 0.8, 2],
    [[0.5, 0.3, 0.15, 0.05], 0.81, 3],
    [[0.5, 0.3, 0.15, 0.05], 0.5, 1],
    [[0.5, 0.3, 0.15, 0.05], 1, 4],
    [[0.4, 0.3], 0.99, 2],
  ])("%j reaching %d needs k=%d", (explained, share, k) => {
    expect(componentsFor(explained, share)).toBe(k);
  });
});

describe("extensionGlob / extensionMatcher", () => {
  it("turns every letter into a two-case class, once per extension", () => {
    expect(extensionGlob(["jpg", "PNG", "Jpg", "jp2"])).toBe("*.{[jJ][pP][gG],[pP][nN][gG],[jJ][pP]2}");
  });

  it.each([
    ["photo.jpg", true],
    ["photo.JPG", true],
    ["photo.Jpg", true],
    ["photo.jpeg", false],
    ["archive.jpg.gz", false],
    ["jpg", false],
    ["scan.jp2", true],
  ])("%s matches: %s", (name, expected) => {
    expect(extensionMatcher(["jpg", "jp2"])(name)).toBe(expected);
  });
});

describe("shapeOf", () => {
  const none = { parallelism: null, master: null, executors: null, coresPerExecutor: null };
  it.each([
    [{ master: "local[2]" }, { cores: 2, local: true, serverMachine: true }],
    [{ master: "local[*]" }, { cores: 2, local: true, serverMachine: true }],
    [{ master: "local" }, { cores: 2, local: true, serverMachine: true }],
    [
      { master: "local[4]", parallelism: "8" },
      { cores: 8, local: true, serverMachine: true },
    ],
    [{ master: "local-cluster[2,2,1024]" }, { cores: 2, local: false, serverMachine: true }],
    [
      { master: "yarn", executors: "10", coresPerExecutor: "4" },
      { cores: 40, local: false, serverMachine: false },
    ],
    [{ master: "spark://host:7077" }, { cores: 2, local: false, serverMachine: false }],
  ])("%j -> %j", (conf, shape) => {
    expect(shapeOf({ ...none, ...conf })).toEqual(shape);
  });
});

describe("featurizePartitions", () => {
  it.each([
    [10, 2, 2],
    [1, 2, 1],
    [1188, 2, 2],
    [4001, 2, 4],
    [100_000, 2, 50],
    [100_000, 64, 64],
    [200_000, 64, 128],
  ])("%d images on %d cores -> %d tasks", (images, cores, tasks) => {
    expect(featurizePartitions(images, cores)).toBe(tasks);
  });
});

describe("featurizeSql", () => {
  it("uses delimited rows on both sides and quotes the bridge command as a SQL string", () => {
    const sql = featurizeSql("v", "node /opt/o'rchard/bridge.mjs");
    expect(sql).toContain("USING 'node /opt/o\\'rchard/bridge.mjs'");
    expect(
      sql.match(/ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' NULL DEFINED AS '\\\\N'/g),
    ).toHaveLength(2);
    expect(sql).toContain("AS (path STRING, features STRING, error STRING, width INT, height INT)");
    expect(sql).toMatch(/FROM v$/);
  });

  it.each([
    ["bytes", "SELECT TRANSFORM(path, base64(content))"],
    ["path", "SELECT TRANSFORM(path, '')"],
  ] as const)("with the %s transport selects %s", (transport, select) => {
    const sql = featurizeSql("v", "b", transport);
    expect(sql.split("\n")[0]).toBe(select);
    if (transport === "path") expect(sql).not.toContain("content");
  });
});

describe("outputColumns", () => {
  it("follows DESIGN.md's schema, features only when kept", () => {
    expect(outputColumns(false)).toEqual(["path", "label", "width", "height", "pca", "error"]);
    expect(outputColumns(true)).toEqual(["path", "label", "width", "height", "features", "pca", "error"]);
  });
});
