import { describe, expect, it } from "vitest";
import { checkLayers } from "../../scripts/check-layers.ts";

describe("checkLayers", () => {
  it.each([
    { path: "src/pipeline/a.ts", text: 'import * as pb from "#connect-proto";', broken: 1 },
    { path: "src/ml/a.ts", text: 'import type { X } from "../connect/gen/index.ts";', broken: 1 },
    { path: "src/connect/a.ts", text: 'import * as pb from "#connect-proto";', broken: 0 },
    { path: "udf-server/src/a.ts", text: 'import { E } from "../../src/errors.ts";', broken: 1 },
    { path: "udf-server/src/a.ts", text: 'import { E } from "./errors.ts";', broken: 0 },
    { path: "src/cli/a.ts", text: 'import { S } from "../../udf-server/src/manage/start-sidecar.ts";', broken: 1 },
    { path: "src/cli/a.ts", text: 'import { startSidecar } from "@orchard/udf-server";', broken: 0 },
    { path: "udf-server/src/a.ts", text: 'import { D } from "../../src/connect/data-frame.ts";', broken: 1 },
    { path: "src/connect/a.ts", text: 'export { x } from "../pipeline/run.ts";', broken: 1 },
    { path: "src/connect/a.ts", text: 'const m = await import("../cli/main.ts");', broken: 1 },
    { path: "src/ml/a.ts", text: 'import { r } from "../pipeline/reduce.ts";', broken: 1 },
    { path: "src/ml/a.ts", text: 'import { D } from "../connect/data-frame.ts";', broken: 0 },
    { path: "src/pipeline/a.ts", text: 'import { c } from "../cli/x.ts";', broken: 1 },
    { path: "src/cli/a.ts", text: 'import { r } from "../pipeline/run-pipeline.ts";', broken: 0 },
    { path: "src/pipeline/a.ts", text: 'import { s3Client } from "../s3.ts";', broken: 0 },
    { path: "src/s3.ts", text: 'import { E } from "./errors.ts";', broken: 0 },
    { path: "src/s3.ts", text: 'import { p } from "./pipeline/output-store.ts";', broken: 1 },
    { path: "src/emr/a.ts", text: 'import { c } from "../cli/config-parse.ts";', broken: 1 },
    { path: "src/emr/a.ts", text: 'import { S } from "../connect/spark-session.ts";', broken: 1 },
    { path: "src/emr/a.ts", text: 'import { E } from "../errors.ts";', broken: 0 },
    { path: "src/cli/a.ts", text: 'const m = await import("../emr/cluster-ops.ts");', broken: 0 },
  ])("$path: $text -> $broken", ({ path, text, broken }) => {
    expect(checkLayers([{ path, text }])).toHaveLength(broken);
  });

  it("reports the line of the import", () => {
    const v = checkLayers([{ path: "src/ml/a.ts", text: 'import a from "a";\n\nimport "../cli/x.ts";' }]);
    expect(v).toEqual([{ file: "src/ml/a.ts", line: 3, rule: expect.stringContaining("src/ml/") }]);
  });
});
