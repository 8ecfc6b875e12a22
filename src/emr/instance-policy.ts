/**
 * The instance profile's policy (`emr/iam/instance-profile-policy.json`) filled in for one set of
 * prefixes: it reads only the input and staging prefixes and writes only the output and log prefixes.
 */
import { EMR_FILES, emrFile, fillPlaceholders, readJsonFile } from "./emr-files.ts";
import type { S3Location } from "./s3-location.ts";

export interface PolicyPrefixes {
  input: S3Location;
  output: S3Location;
  staging: S3Location;
  region: string;
  accountId: string;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

/** The template as shipped (with its `{{...}}` placeholders). */
export function instancePolicyTemplate(path = emrFile(EMR_FILES.instancePolicy)): PolicyDocument {
  return readJsonFile(path, "emr/iam/instance-profile-policy.json") as PolicyDocument;
}

/**
 * Fills the template. An empty prefix (a whole bucket) gives `arn:aws:s3:::bucket/*` and an
 * `s3:prefix` condition of `*`, never a doubled slash.
 */
export function renderInstancePolicy(p: PolicyPrefixes, template = instancePolicyTemplate()): PolicyDocument {
  const filled = fillPlaceholders(
    template,
    {
      inputBucket: p.input.bucket,
      inputPrefix: p.input.prefix,
      outputBucket: p.output.bucket,
      outputPrefix: p.output.prefix,
      stagingBucket: p.staging.bucket,
      stagingPrefix: p.staging.prefix,
      region: p.region,
      accountId: p.accountId,
    },
    "emr/iam/instance-profile-policy.json",
  );
  for (const statement of filled.Statement) {
    const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map((r) =>
      r.replace(/^(arn:aws:s3:::[^/]+)\/\/?\*$/, "$1/*"),
    );
    statement.Resource = [...new Set(resources)];
    const like = statement.Condition?.StringLike;
    if (like && "s3:prefix" in like) {
      const prefixes = (Array.isArray(like["s3:prefix"]) ? like["s3:prefix"] : [like["s3:prefix"] as string])
        .map((x) => (x === "/*" ? "*" : x))
        .filter((x) => x !== "");
      like["s3:prefix"] = [...new Set(prefixes)];
    }
  }
  return filled;
}
