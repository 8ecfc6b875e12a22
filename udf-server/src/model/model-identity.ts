/**
 * Which model a run asks for, as the bridges check it against the sidecar's `info`: the name in
 * the model's manifest and the SHA-256 of its ONNX file. Read from the model's files on this
 * machine (a catalog model in the cache, or a user model's path), without installing anything.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { join } from "node:path";
import { locateModel } from "./catalog.ts";
import { readManifest } from "./manifest.ts";

/** A model's name (its manifest's) and the SHA-256 (hex) of its ONNX file. */
export interface ModelIdentity {
  name: string;
  sha256: string;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * The identity of `model` (catalog name or path) from its files under `cacheDir`, or undefined
 * when they are not on this machine (e.g. a driver whose executors keep the model elsewhere).
 * A bad manifest or path still throws its `ConfigError`.
 */
export async function installedModelIdentity(model: string, cacheDir: string): Promise<ModelIdentity | undefined> {
  const location = locateModel(model, cacheDir);
  if (!existsSync(location.manifestPath)) return undefined;
  const manifest = await readManifest(location.manifestPath);
  const onnxPath = location.onnxPath ?? join(location.dir, manifest.file);
  if (location.onnxPath === null && manifest.sha256 !== undefined)
    return { name: manifest.name, sha256: manifest.sha256 };
  if (!existsSync(onnxPath)) return undefined;
  return { name: manifest.name, sha256: await sha256File(onnxPath) };
}
