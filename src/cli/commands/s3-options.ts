/**
 * Option schemas of `orchard s3` (zod), loaded when a command runs so that `orchard --help` does not load zod.
 */
import { statSync } from "node:fs";
import { z } from "zod";
import { type S3Location, s3Location } from "../../s3.ts";
import { DEFAULT_S3_PORT } from "../local/s3-server.ts";
import { hostOption, httpUrlOption, portOption } from "../option-schemas.ts";

export const s3StartOptions = z.object({
  port: portOption.default(DEFAULT_S3_PORT),
  host: hostOption.default("127.0.0.1"),
  dataDir: z.string().min(1, { error: "a folder path" }).optional(),
});

export const s3PortOptions = z.object({ port: portOption.default(DEFAULT_S3_PORT) });

/** `s3://bucket/optional/prefix` */
export const s3UriOption = z
  .string()
  .regex(/^s3a?:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { error: "an S3 URI such as s3://bucket/prefix" })
  .transform((uri) => s3Location(uri) as S3Location);

export const s3UploadOptions = z.object({
  dir: z.string().refine((d) => d.length > 0 && statSync(d, { throwIfNoEntry: false })?.isDirectory() === true, {
    error: "an existing folder",
  }),
  to: s3UriOption,
  endpoint: httpUrlOption.default(`http://127.0.0.1:${DEFAULT_S3_PORT}`),
});

export const s3DownloadOptions = z.object({
  // Checked on the URI as given: a folder's trailing slash is gone once it is parsed.
  from: z
    .string()
    .regex(/^s3a?:\/\/[^/]+\/.*[^/]$/, { error: "an S3 object URI such as s3://orchard/out/report.html" })
    .pipe(s3UriOption),
  to: z.string().min(1, { error: "a file path" }).optional(),
  endpoint: httpUrlOption.default(`http://127.0.0.1:${DEFAULT_S3_PORT}`),
});
