/**
 * The sidecar's side of the path transport: reads the image a `file:` URI names, but only inside
 * the read roots its (authenticated) caller declared for the exchange, and only a regular file no
 * larger than the limit. Whatever goes wrong is that row's error, never the exchange's.
 *
 * The URIs are the `path` column of Spark's `binaryFile` source: Hadoop's `Path.toString()`, i.e.
 * `file:` + the absolute path as it is on disk, not percent-encoded (`file:/data/a b.jpg`). So
 * nothing is decoded: `file:/data/a%20b.jpg` names a file whose name holds `%20`.
 *
 * What is refused, before anything is read:
 * - any other scheme, an authority other than empty or `localhost`, a relative path, a NUL, and a
 *   `.` or `..` segment (no normalising: a path Spark listed never has one);
 * - a path not under a root (whole segments: `/data/in-other` is not under `/data/in`);
 * - a path whose real path (symbolic links resolved) leaves the root's real path;
 * - after opening (`O_NOFOLLOW | O_NONBLOCK`, so a FIFO does not block): anything fstat does not
 *   call a regular file (`/dev/zero`, a FIFO, a socket, a directory), and a file over the limit
 *   (its size comes from fstat; at most that many bytes are read). On Linux the opened file's own
 *   path (`/proc/self/fd/N`) is checked against the root again, closing the window between the
 *   real-path check and the open.
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, open, readlink, realpath } from "node:fs/promises";
import { isAbsolute } from "node:path";

/** A read root: the folder a caller named, and its real path (both without a trailing slash). */
export interface ReadRoot {
  path: string;
  real: string;
}

/** The image's bytes, or the row's error. */
export type FileReadOutcome = { bytes: Uint8Array; error: null } | { bytes: null; error: string };

const fail = (error: string): FileReadOutcome => ({ bytes: null, error });

/** The absolute path a `file:` URI names, or null when it is not one this reader accepts. */
export function filePathOf(uri: string): string | null {
  if (!uri.startsWith("file:") || uri.includes("\0")) return null;
  let rest = uri.slice("file:".length);
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    if (slash < 0) return null;
    const authority = rest.slice(2, slash);
    if (authority !== "" && authority !== "localhost") return null;
    rest = rest.slice(slash);
  }
  if (!isAbsolute(rest) || rest.includes("\\")) return null;
  const segments = rest.split("/");
  if (segments.some((s) => s === "." || s === "..")) return null;
  return rest.replace(/\/+/g, "/");
}

/** Whether `path` is `root` or inside it (whole segments). */
export function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root === "/" ? "/" : `${root}/`);
}

/** Resolves the roots a caller named (`file:` URIs or absolute paths); a root that does not exist is dropped. */
export async function resolveReadRoots(roots: readonly string[]): Promise<ReadRoot[]> {
  const out: ReadRoot[] = [];
  for (const root of roots) {
    const path = root.startsWith("file:") ? filePathOf(root) : isAbsolute(root) ? root : null;
    if (path === null) continue;
    const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
    try {
      out.push({ path: trimmed, real: await realpath(trimmed) });
    } catch {
      // a root that cannot be resolved reads nothing
    }
  }
  return out;
}

function errnoMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "a symbolic link where a file was expected";
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/** The path the open file descriptor refers to, where the OS tells (Linux); null elsewhere. */
async function openedPath(handle: FileHandle): Promise<string | null> {
  if (process.platform !== "linux") return null;
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return null;
  }
}

/** Reads the image `uri` names (see the module's comment for what is refused). */
export async function readImageFile(
  uri: string | null,
  roots: readonly ReadRoot[],
  maxBytes: number,
): Promise<FileReadOutcome> {
  if (uri === null) return fail("read: no path (null)");
  const path = filePathOf(uri);
  if (path === null) {
    return fail("read: not a file: URI the sidecar reads (an absolute path, without . or .. segments)");
  }
  const root = roots.find((r) => isUnder(path, r.path));
  if (!root) return fail("read: outside the exchange's read roots");
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    return fail(`read: ${errnoMessage(err)}`);
  }
  if (!isUnder(real, root.real)) return fail("read: a symbolic link out of the exchange's read roots");
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return fail(`read: ${errnoMessage(err)}`);
  }
  try {
    const opened = await openedPath(handle);
    if (opened !== null && !isUnder(opened, root.real)) return fail("read: the file moved out of the read roots");
    let stat: Stats;
    try {
      stat = await handle.stat();
    } catch (err) {
      return fail(`read: ${errnoMessage(err)}`);
    }
    if (!stat.isFile()) return fail("read: not a regular file");
    if (stat.size > maxBytes) return fail(`image too large: ${stat.size} bytes > limit ${maxBytes}`);
    const bytes = new Uint8Array(stat.size);
    let got = 0;
    try {
      while (got < bytes.length) {
        const { bytesRead } = await handle.read(bytes, got, bytes.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      return fail(`read: ${errnoMessage(err)}`);
    }
    return { bytes: got === bytes.length ? bytes : bytes.subarray(0, got), error: null };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
