/**
 * The cluster definition: `emr/cluster.json` (or `--definition FILE`), a RunJobFlow request in the
 * EMR API's own JSON shape with `{{staging}}` and `{{logUri}}` placeholders, plus the overrides
 * `orchard emr up` takes on its command line.
 */
import type { RunJobFlowInput } from "@aws-sdk/client-emr";
import { ConfigError } from "../errors.ts";
import { EMR_FILES, emrFile, fillPlaceholders, readJsonFile } from "./emr-files.ts";
import { type S3Location, s3Uri } from "./s3-location.ts";

export const DEFAULT_RELEASE_LABEL = "emr-spark-8.1.0";

/** Tag keys orchard sets on the clusters it starts (`submit` and `logs` read the staging back). */
export const TAGS = { staging: "orchard:staging", cluster: "orchard:cluster" } as const;

/** What `up` may change in the definition. */
export interface ClusterOverrides {
  name?: string;
  releaseLabel?: string;
  primaryInstanceType?: string;
  coreInstanceType?: string;
  coreCount?: number;
  /** Core nodes on the spot market (the primary stays on demand). */
  spot?: boolean;
  subnetId?: string;
  idleTimeoutSeconds?: number;
  logUri?: string;
  securityConfiguration?: string;
  instanceProfile?: string;
  serviceRole?: string;
  tags?: Readonly<Record<string, string>>;
}

/** Reads a definition file (default `emr/cluster.json`). */
export function readDefinition(path?: string): RunJobFlowInput {
  const file = path ?? emrFile(EMR_FILES.definition);
  const raw = readJsonFile(file, path ? "--definition" : "emr/cluster.json");
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError({ field: "--definition", expected: "a JSON object in RunJobFlow's request shape" });
  }
  const def = raw as RunJobFlowInput;
  if (typeof def.Name !== "string" || !def.Instances || typeof def.Instances !== "object") {
    throw new ConfigError({
      field: "--definition",
      expected: "a RunJobFlow request with at least Name and Instances (see emr/cluster.json)",
    });
  }
  return def;
}

/**
 * The RunJobFlow request `up` sends: the definition with its placeholders filled (`{{staging}}`
 * is `s3://BUCKET/PREFIX`, `{{logUri}}` defaults to `{{staging}}/logs/`) and the overrides applied.
 */
export function buildRunJobFlowRequest(
  definition: RunJobFlowInput,
  { staging, overrides = {} }: { staging: S3Location; overrides?: ClusterOverrides },
): RunJobFlowInput {
  const stagingUri = s3Uri(staging);
  const logUri = overrides.logUri ?? `${stagingUri}/logs/`;
  const req = fillPlaceholders(structuredClone(definition), { staging: stagingUri, logUri }, "--definition");
  if (overrides.name) req.Name = overrides.name;
  req.ReleaseLabel = overrides.releaseLabel ?? req.ReleaseLabel ?? DEFAULT_RELEASE_LABEL;
  if (overrides.logUri) req.LogUri = overrides.logUri;
  if (overrides.securityConfiguration) req.SecurityConfiguration = overrides.securityConfiguration;
  if (overrides.instanceProfile) req.JobFlowRole = overrides.instanceProfile;
  if (overrides.serviceRole) req.ServiceRole = overrides.serviceRole;
  if (overrides.idleTimeoutSeconds !== undefined)
    req.AutoTerminationPolicy = { IdleTimeout: overrides.idleTimeoutSeconds };
  const instances = req.Instances ?? {};
  req.Instances = instances;
  if (overrides.subnetId) instances.Ec2SubnetId = overrides.subnetId;
  const sizing = overrides.primaryInstanceType || overrides.coreInstanceType || overrides.coreCount !== undefined;
  if (instances.InstanceFleets && (sizing || overrides.spot)) {
    throw new ConfigError({
      field: overrides.spot ? "--spot" : "--core-instance-type",
      expected: "a definition with instance groups (this one uses instance fleets: size them in the definition file)",
    });
  }
  for (const group of instances.InstanceGroups ?? []) {
    if (group.InstanceRole === "MASTER" && overrides.primaryInstanceType)
      group.InstanceType = overrides.primaryInstanceType;
    if (group.InstanceRole === "CORE") {
      if (overrides.coreInstanceType) group.InstanceType = overrides.coreInstanceType;
      if (overrides.coreCount !== undefined) group.InstanceCount = overrides.coreCount;
      if (overrides.spot) group.Market = "SPOT";
    }
  }
  const tags = new Map((req.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
  tags.set(TAGS.staging, stagingUri);
  for (const [k, v] of Object.entries(overrides.tags ?? {})) tags.set(k, v);
  req.Tags = [...tags].map(([Key, Value]) => ({ Key, Value }));
  return req;
}

/** The instance types a request names, with the flag that sets each (for messages). */
export function instanceTypesOf(req: RunJobFlowInput): { type: string; field: string }[] {
  const out: { type: string; field: string }[] = [];
  for (const g of req.Instances?.InstanceGroups ?? []) {
    if (!g.InstanceType) continue;
    const field =
      g.InstanceRole === "MASTER"
        ? "--primary-instance-type"
        : g.InstanceRole === "CORE"
          ? "--core-instance-type"
          : `--definition (instance group ${g.Name ?? g.InstanceRole})`;
    out.push({ type: g.InstanceType, field });
  }
  for (const f of req.Instances?.InstanceFleets ?? []) {
    for (const c of f.InstanceTypeConfigs ?? []) {
      if (c.InstanceType)
        out.push({ type: c.InstanceType, field: `--definition (instance fleet ${f.Name ?? f.InstanceFleetType})` });
    }
  }
  return out;
}
