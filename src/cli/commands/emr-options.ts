/**
 * The option schemas (zod) of `orchard emr`, loaded when a verb runs so that `orchard --help`
 * does not load zod.
 */
import { z } from "zod";
import { httpUrlOption, positiveIntOption, secondsOption } from "../option-schemas.ts";

const regionOption = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "an AWS region such as eu-west-1" })
  .optional();
const clusterIdOption = z.string().regex(/^j-[A-Z0-9]{6,}$/, { error: "an EMR cluster id such as j-2AXXXXXXGAPLF" });
const s3UriString = z.string().regex(/^s3a?:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, {
  error: "an S3 URI such as s3://bucket/prefix (s3:// or s3a://)",
});
const instanceType = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "an EC2 instance type such as c6i.2xlarge" });

const awsOptions = {
  region: regionOption,
  endpointUrl: httpUrlOption.optional(),
  pollSeconds: secondsOption.default(30),
};

export const emrUpOptions = z.object({
  ...awsOptions,
  staging: s3UriString,
  definition: z.string().min(1, { error: "a JSON file" }).optional(),
  releaseLabel: z
    .string()
    .regex(/^emr-[\w.-]+$/, { error: "an EMR release label such as emr-spark-8.1.0" })
    .optional(),
  name: z.string().min(1).max(256, { error: "a name of at most 256 characters" }).optional(),
  primaryInstanceType: instanceType.optional(),
  coreInstanceType: instanceType.optional(),
  coreCount: positiveIntOption("an integer >= 1").optional(),
  spot: z.boolean().default(false),
  subnetId: z
    .string()
    .regex(/^subnet-[0-9a-f]+$/, { error: "a subnet id such as subnet-0abc1234" })
    .optional(),
  idleMinutes: positiveIntOption("a number of minutes >= 1").optional(),
  logUri: s3UriString.optional(),
  packageDir: z.string().min(1, { error: "a folder" }).optional(),
  model: z
    .string()
    .min(1, { error: "a catalog model name or a folder holding manifest.json" })
    .default("efficientnet-lite0"),
  wait: z.boolean().default(true),
  timeout: secondsOption.default(3600),
  dryRun: z.boolean().default(false),
});

export const emrSubmitOptions = z.object({
  ...awsOptions,
  clusterId: clusterIdOption,
  name: z.string().min(1).optional(),
  wait: z.boolean().default(false),
});

export const emrClusterOptions = z.object({
  ...awsOptions,
  clusterId: clusterIdOption,
  json: z.boolean().default(false),
  stepId: z
    .string()
    .regex(/^s-[A-Z0-9]+$/, { error: "an EMR step id such as s-1ABCDEFGHIJKL" })
    .optional(),
  showToken: z.boolean().default(false),
  envFile: z.string().min(1, { error: "a file path" }).optional(),
  idleMinutes: positiveIntOption("a number of minutes >= 1").default(60),
  timeout: secondsOption.default(900),
});

export const emrPolicyOptions = z.object({
  input: s3UriString,
  output: s3UriString,
  staging: s3UriString,
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "an AWS region such as eu-west-1" }),
  accountId: z.string().regex(/^\d{12}$/, { error: "a 12-digit AWS account id" }),
});
