import { realpathSync } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.ts";

/** A folder as a comparable location: scheme, authority (an S3 bucket, an HDFS name node) and path segments. */
interface Location {
  readonly root: string;
  readonly segments: readonly string[];
}

/**
 * Where `uri` is, for comparing folders: `file:` URIs by their real path (symbolic links of the
 * part that exists resolved, `.` and `..` removed), other URIs (`s3a://bucket/prefix`,
 * `hdfs://nn/path`) by scheme, authority and path segments, empty segments dropped (S3 keys are
 * compared as the prefixes they are; `s3://` is taken as `s3a://`).
 */
function locate(uri: string): Location {
  if (/^file:/i.test(uri)) {
    const path = realLocalPath(fileURLToPath(uri));
    return { root: "file://", segments: path.split(sep).filter((s) => s !== "") };
  }
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(.*)$/i.exec(uri);
  if (!m) return { root: uri, segments: [] };
  const scheme = (m[1] as string).toLowerCase().replace(/^s3n?$/, "s3a");
  return {
    root: `${scheme}://${m[2] as string}`,
    segments: (m[3] as string).split("/").filter((s) => s !== "" && s !== "."),
  };
}

/** The real path of `path`: its longest existing ancestor resolved through symbolic links, the rest appended. */
function realLocalPath(path: string): string {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(realpathSync(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return join(current, ...rest.reverse());
      rest.push(basename(current));
      current = parent;
    }
  }
}

/** True when folder `outer` is `inner` or one of its ancestors. */
function contains(outer: Location, inner: Location): boolean {
  return (
    outer.root === inner.root &&
    outer.segments.length <= inner.segments.length &&
    outer.segments.every((s, i) => s === inner.segments[i])
  );
}

/** One folder a run reads, named by its flag. */
export interface ReadFolder {
  readonly flag: string;
  readonly uri: string;
}

/**
 * Refuses, before any work, an output folder that is, contains, or lies inside a folder the run
 * reads (the `--input` images, a `--pca-model`): writing (and with `--overwrite`, replacing) the
 * output would delete or change what is being read, and a rerun would read its own output.
 * Local folders are compared by their real paths, `s3a://` ones by bucket and prefix. The
 * ConfigError names `--output` and both folders.
 */
export function checkOutputApart(output: string, reads: readonly ReadFolder[]): void {
  const out = locate(output);
  for (const { flag, uri } of reads) {
    const read = locate(uri);
    let relation: string | undefined;
    if (contains(out, read) && contains(read, out)) relation = `is the same folder as the ${flag} ${uri}`;
    else if (contains(out, read)) relation = `contains the ${flag} ${uri}`;
    else if (contains(read, out)) relation = `is inside the ${flag} ${uri}`;
    if (relation) {
      throw new ConfigError({
        field: "--output",
        expected: `a folder outside the ${flag}, that does not contain it either`,
        message: `the --output ${output} ${relation}: writing it would delete or change what the run reads; choose an --output outside it`,
      });
    }
  }
}
