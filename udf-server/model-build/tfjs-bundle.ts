/**
 * Unpacks a TensorFlow.js layers model that an npm package ships as UMD JavaScript bundles
 * (nsfwjs: `model.min.js` exporting the model.json object, `group1-shardNofM.min.js` exporting
 * the weight bytes as base64) into the plain TF.js files: `model.json` and `weights.bin` (the
 * shards concatenated in manifest order). The bundles are evaluated in an empty `vm` context
 * (no require, no process, no I/O): they only assign `module.exports`.
 *
 *   npx tsx udf-server/model-build/tfjs-bundle.ts --bundle <folder with model.min.js> --out <folder>
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createContext, runInContext } from "node:vm";

function evaluate(file: string): unknown {
  const module = { exports: {} as unknown };
  const context = createContext({ module, exports: module.exports });
  runInContext(readFileSync(file, "utf8"), context, { filename: file, timeout: 10_000 });
  return module.exports;
}

const { values } = parseArgs({ options: { bundle: { type: "string" }, out: { type: "string" } } });
if (!values.bundle || !values.out) {
  console.error("usage: tfjs-bundle.ts --bundle <folder with model.min.js> --out <folder>");
  process.exit(2);
}
const model = evaluate(join(values.bundle, "model.min.js")) as {
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths: string[] }>;
};
if (typeof model !== "object" || model === null || !model.modelTopology || !Array.isArray(model.weightsManifest)) {
  console.error("model.min.js does not export a TF.js layers model (modelTopology + weightsManifest)");
  process.exit(1);
}
const shards = model.weightsManifest.flatMap((group) =>
  group.paths.map((p) => {
    const b64 = evaluate(join(values.bundle as string, `${p}.min.js`));
    if (typeof b64 !== "string") {
      console.error(`${p}.min.js does not export a base64 string`);
      process.exit(1);
    }
    return Buffer.from(b64, "base64");
  }),
);
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, "model.json"), JSON.stringify(model));
writeFileSync(join(values.out, "weights.bin"), Buffer.concat(shards));
console.log(`model.json + weights.bin (${shards.reduce((n, s) => n + s.length, 0)} bytes) in ${values.out}`);
