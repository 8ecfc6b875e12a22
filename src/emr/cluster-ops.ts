/**
 * The `orchard emr` verbs against the EMR API: up (stage, RunJobFlow, wait for WAITING), submit
 * (a command-runner.jar step running `orchard submit --master yarn`), status, logs, connect
 * (StartSession + GetSessionEndpoint) and down (TerminateJobFlows).
 */
import { existsSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import {
  AddJobFlowStepsCommand,
  type Cluster,
  CreateSecurityConfigurationCommand,
  DescribeClusterCommand,
  DescribeSecurityConfigurationCommand,
  DescribeStepCommand,
  GetBlockPublicAccessConfigurationCommand,
  GetSessionCommand,
  GetSessionEndpointCommand,
  ListStepsCommand,
  ListSupportedInstanceTypesCommand,
  RunJobFlowCommand,
  type RunJobFlowInput,
  StartSessionCommand,
  type StepSummary,
  TerminateJobFlowsCommand,
} from "@aws-sdk/client-emr";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { ConfigError, OrchardError, SetupError } from "../errors.ts";
import { type AwsClients, awsErrorInfo, awsFailure } from "./aws-clients.ts";
import { instanceTypesOf, TAGS } from "./cluster-definition.ts";
import { EMR_FILES, emrFile, readJsonFile } from "./emr-files.ts";
import { parseS3Uri, type S3Location } from "./s3-location.ts";
import { type StagedObject, stage, stageScript } from "./staging.ts";

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Where orchard is on every node (the bootstrap's install). */
export const NODE_ORCHARD = "/usr/local/bin/orchard";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw awsFailure(operation, err);
  }
}

// ---------------------------------------------------------------------------------------------
// up

export interface UpOptions {
  staging: S3Location;
  request: RunJobFlowInput;
  plan: { model: string; objects: StagedObject[] };
  wait: boolean;
  pollSeconds: number;
  timeoutSeconds: number;
}

/** Checks the request's instance types against what EMR supports for its release label. */
export async function checkInstanceTypes(aws: AwsClients, req: RunJobFlowInput, io: Io): Promise<void> {
  const label = req.ReleaseLabel as string;
  const supported = new Set<string>();
  try {
    let marker: string | undefined;
    do {
      const page = await aws.emr.send(new ListSupportedInstanceTypesCommand({ ReleaseLabel: label, Marker: marker }));
      for (const t of page.SupportedInstanceTypes ?? []) if (t.Type) supported.add(t.Type);
      marker = page.Marker;
    } while (marker);
  } catch (err) {
    const { name, status } = awsErrorInfo(err);
    if (name === "InvalidRequestException" || name === "ValidationException") {
      throw new ConfigError({
        field: "--release-label",
        expected: `an EMR release label such as emr-spark-8.1.0 (EMR does not know "${label}")`,
        cause: err,
      });
    }
    if (status !== undefined && status >= 500) {
      io.err(`warning: could not list the instance types of ${label} (${name}); not checked`);
      return;
    }
    throw awsFailure("ListSupportedInstanceTypes", err);
  }
  if (supported.size === 0) {
    throw new ConfigError({
      field: "--release-label",
      expected: `an EMR release label with instance types (${label} lists none)`,
    });
  }
  for (const { type, field } of instanceTypesOf(req)) {
    if (!supported.has(type)) {
      throw new ConfigError({
        field,
        expected: `an instance type EMR supports on ${label}, such as c6i.2xlarge or m6i.xlarge ("${type}" is not one)`,
      });
    }
  }
}

/** Creates the security configuration the request names from `emr/security-configuration.json` unless it exists. */
export async function ensureSecurityConfiguration(aws: AwsClients, name: string | undefined, io: Io): Promise<void> {
  if (!name) return;
  try {
    await aws.emr.send(new DescribeSecurityConfigurationCommand({ Name: name }));
    return;
  } catch (err) {
    const { name: errName } = awsErrorInfo(err);
    if (errName !== "InvalidRequestException" && errName !== "ResourceNotFoundException") {
      throw awsFailure("DescribeSecurityConfiguration", err);
    }
  }
  const config = readJsonFile(emrFile(EMR_FILES.securityConfiguration), "emr/security-configuration.json");
  await call("CreateSecurityConfiguration", () =>
    aws.emr.send(new CreateSecurityConfigurationCommand({ Name: name, SecurityConfiguration: JSON.stringify(config) })),
  );
  io.err(`created the security configuration ${name} (SSE-S3 at rest, IMDSv2) from emr/security-configuration.json`);
}

/** Warns when EMR's block public access is off or lets port 22 be opened to the world. */
async function checkBlockPublicAccess(aws: AwsClients, io: Io): Promise<void> {
  try {
    const bpa = await aws.emr.send(new GetBlockPublicAccessConfigurationCommand({}));
    const c = bpa.BlockPublicAccessConfiguration;
    if (!c?.BlockPublicSecurityGroupRules) {
      io.err(
        "warning: EMR block public access is OFF in this region: turn it on (aws emr put-block-public-access-configuration --block-public-access-configuration file://emr/block-public-access.json)",
      );
    } else if (
      (c.PermittedPublicSecurityGroupRuleRanges ?? []).some(
        (r) => (r.MinRange ?? 0) <= 22 && (r.MaxRange ?? r.MinRange ?? 0) >= 22,
      )
    ) {
      io.err(
        "warning: EMR block public access permits port 22 from anywhere; orchard needs no SSH (use SSM): see emr/block-public-access.json",
      );
    }
  } catch (err) {
    io.err(`warning: could not read EMR block public access (${awsErrorInfo(err).name}); not checked`);
  }
}

/** Stages, starts the cluster and (unless `wait` is false) waits for WAITING. Returns the cluster id. */
export async function up(aws: AwsClients, opts: UpOptions, io: Io): Promise<string> {
  await checkInstanceTypes(aws, opts.request, io);
  await stage(aws.s3, opts.staging, opts.plan, (l) => io.err(l));
  await ensureSecurityConfiguration(aws, opts.request.SecurityConfiguration, io);
  await checkBlockPublicAccess(aws, io);
  const res = await call("RunJobFlow", () => aws.emr.send(new RunJobFlowCommand(opts.request)));
  const id = res.JobFlowId as string;
  io.out(id);
  io.err(`cluster ${id} starting (${opts.request.ReleaseLabel}); logs in ${opts.request.LogUri ?? "(no log URI)"}`);
  if (!opts.wait) return id;
  await waitForCluster(aws, id, opts, io);
  return id;
}

const TERMINAL = new Set(["TERMINATED", "TERMINATED_WITH_ERRORS"]);

async function describe(aws: AwsClients, clusterId: string): Promise<Cluster> {
  const res = await call("DescribeCluster", () => aws.emr.send(new DescribeClusterCommand({ ClusterId: clusterId })));
  if (!res.Cluster)
    throw new SetupError({ component: "emr", message: `DescribeCluster returned no cluster for ${clusterId}` });
  return res.Cluster;
}

async function waitForCluster(
  aws: AwsClients,
  clusterId: string,
  { pollSeconds, timeoutSeconds }: { pollSeconds: number; timeoutSeconds: number },
  io: Io,
): Promise<void> {
  const t0 = Date.now();
  let last = "";
  for (;;) {
    const c = await describe(aws, clusterId);
    const state = c.Status?.State ?? "UNKNOWN";
    const elapsed = `${Math.round((Date.now() - t0) / 1000)} s`;
    if (state !== last)
      io.err(
        `  ${elapsed}: ${state}${c.Status?.StateChangeReason?.Message ? ` (${c.Status.StateChangeReason.Message})` : ""}`,
      );
    last = state;
    if (state === "WAITING" || state === "RUNNING") {
      io.err(`cluster ${clusterId} is ${state} after ${elapsed}`);
      return;
    }
    if (TERMINAL.has(state)) {
      const reason = c.Status?.StateChangeReason;
      throw new OrchardError("setup", {
        message: `cluster ${clusterId} ended ${state}${reason?.Code ? ` (${reason.Code})` : ""}: ${reason?.Message ?? "no reason given"}; bootstrap logs: ${c.LogUri ?? "?"}${clusterId}/node/`,
      });
    }
    if (Date.now() - t0 > timeoutSeconds * 1000) {
      throw new OrchardError("setup", {
        message: `cluster ${clusterId} still ${state} after ${elapsed} (orchard emr status --cluster-id ${clusterId})`,
      });
    }
    await sleep(pollSeconds * 1000);
  }
}

// ---------------------------------------------------------------------------------------------
// submit

export interface SubmitOptions {
  clusterId: string;
  /** What follows `--`: `run --input ... --output ...`, or a script path and its arguments. */
  args: readonly string[];
  name?: string | undefined;
  wait: boolean;
  pollSeconds: number;
}

/** The staging location a cluster started by `up` carries in its tags. */
function stagingOf(c: Cluster): S3Location | undefined {
  const tag = c.Tags?.find((t) => t.Key === TAGS.staging)?.Value;
  return tag ? parseS3Uri(tag, `the cluster's ${TAGS.staging} tag`) : undefined;
}

/** The HadoopJarStep `submit` adds: command-runner.jar running orchard on the primary node. */
export function stepArgs(args: readonly string[], scriptUri?: string): string[] {
  if (!scriptUri) return [NODE_ORCHARD, "submit", "--master", "yarn", "--", ...args];
  // A user script: fetched from the staging prefix onto the primary node, then run.
  const script =
    'set -euo pipefail; d=$(mktemp -d); aws s3 cp --only-show-errors "$1" "$d/"; f="$d/$(basename "$1")"; shift; exec ' +
    `${NODE_ORCHARD} submit --master yarn "$f" "$@"`;
  return ["bash", "-c", script, "orchard-step", scriptUri, ...args.slice(1)];
}

/** Adds the step; with `wait`, follows it and throws when it does not complete. Returns the step id. */
export async function submit(aws: AwsClients, opts: SubmitOptions, io: Io): Promise<string> {
  if (opts.args.length === 0) {
    throw new ConfigError({
      field: "arguments after --",
      expected: "run --input s3://... --output s3://..., or a script and its arguments",
    });
  }
  const cluster = await describe(aws, opts.clusterId);
  const first = opts.args[0] as string;
  let scriptUri: string | undefined;
  if (first !== "run" && first !== "fit" && first !== "transform" && existsSync(first) && statSync(first).isFile()) {
    const staging = stagingOf(cluster);
    if (!staging) {
      throw new ConfigError({
        field: "--cluster-id",
        expected: `a cluster started by orchard emr up (${opts.clusterId} has no ${TAGS.staging} tag to stage the script under)`,
      });
    }
    scriptUri = await call("PutObject (script)", () => stageScript(aws.s3, staging, first));
    io.err(`staged ${first} as ${scriptUri}`);
  }
  const res = await call("AddJobFlowSteps", () =>
    aws.emr.send(
      new AddJobFlowStepsCommand({
        JobFlowId: opts.clusterId,
        Steps: [
          {
            Name: opts.name ?? `orchard ${opts.args.slice(0, 1).join(" ")}`,
            ActionOnFailure: "CONTINUE",
            HadoopJarStep: { Jar: "command-runner.jar", Args: stepArgs(opts.args, scriptUri) },
          },
        ],
      }),
    ),
  );
  const stepId = res.StepIds?.[0] as string;
  io.out(stepId);
  if (!opts.wait) {
    io.err(`step ${stepId} added to ${opts.clusterId}; follow it: orchard emr status --cluster-id ${opts.clusterId}`);
    return stepId;
  }
  let last = "";
  const t0 = Date.now();
  for (;;) {
    const step = (
      await call("DescribeStep", () =>
        aws.emr.send(new DescribeStepCommand({ ClusterId: opts.clusterId, StepId: stepId })),
      )
    ).Step;
    const state = step?.Status?.State ?? "UNKNOWN";
    if (state !== last) io.err(`  ${Math.round((Date.now() - t0) / 1000)} s: step ${stepId} ${state}`);
    last = state;
    if (state === "COMPLETED") return stepId;
    if (state === "FAILED" || state === "CANCELLED" || state === "INTERRUPTED") {
      const f = step?.Status?.FailureDetails;
      throw new OrchardError("pipeline", {
        message: `step ${stepId} ${state}${f?.Reason ? `: ${f.Reason}` : ""}${f?.Message ? ` (${f.Message})` : ""}; its stderr: orchard emr logs --cluster-id ${opts.clusterId} --step-id ${stepId}`,
      });
    }
    await sleep(opts.pollSeconds * 1000);
  }
}

// ---------------------------------------------------------------------------------------------
// status, logs, down

async function listSteps(aws: AwsClients, clusterId: string): Promise<StepSummary[]> {
  const steps: StepSummary[] = [];
  let marker: string | undefined;
  do {
    const page = await call("ListSteps", () =>
      aws.emr.send(new ListStepsCommand({ ClusterId: clusterId, Marker: marker })),
    );
    steps.push(...(page.Steps ?? []));
    marker = page.Marker;
  } while (marker);
  return steps;
}

export interface ClusterStatus {
  id: string;
  name: string | undefined;
  state: string | undefined;
  reason: string | undefined;
  releaseLabel: string | undefined;
  logUri: string | undefined;
  primaryDns: string | undefined;
  staging: string | undefined;
  steps: { id: string | undefined; name: string | undefined; state: string | undefined; reason: string | undefined }[];
}

export async function status(aws: AwsClients, clusterId: string): Promise<ClusterStatus> {
  const c = await describe(aws, clusterId);
  const steps = await listSteps(aws, clusterId);
  return {
    id: clusterId,
    name: c.Name,
    state: c.Status?.State,
    reason: c.Status?.StateChangeReason?.Message,
    releaseLabel: c.ReleaseLabel,
    logUri: c.LogUri,
    primaryDns: c.MasterPublicDnsName,
    staging: c.Tags?.find((t) => t.Key === TAGS.staging)?.Value,
    steps: steps.map((s) => ({
      id: s.Id,
      name: s.Name,
      state: s.Status?.State,
      reason: s.Status?.FailureDetails?.Message ?? s.Status?.StateChangeReason?.Message,
    })),
  };
}

export function formatStatus(s: ClusterStatus): string[] {
  const lines = [
    `cluster ${s.id} (${s.name ?? "?"}): ${s.state ?? "?"}${s.reason ? ` (${s.reason})` : ""}`,
    `  release ${s.releaseLabel ?? "?"}; logs ${s.logUri ?? "-"}; staging ${s.staging ?? "-"}`,
  ];
  if (s.steps.length === 0) lines.push("  no steps");
  for (const step of s.steps)
    lines.push(`  step ${step.id} ${step.state ?? "?"}: ${step.name ?? ""}${step.reason ? ` (${step.reason})` : ""}`);
  return lines;
}

/** A step's stderr (default: the latest step) from the cluster's log URI. */
export async function logs(aws: AwsClients, clusterId: string, stepId: string | undefined, io: Io): Promise<void> {
  const c = await describe(aws, clusterId);
  if (!c.LogUri)
    throw new ConfigError({ field: "--cluster-id", expected: `a cluster with a log URI (${clusterId} has none)` });
  const id = stepId ?? (await listSteps(aws, clusterId))[0]?.Id;
  if (!id) throw new ConfigError({ field: "--step-id", expected: `a step of ${clusterId} (it has none)` });
  const base = parseS3Uri(c.LogUri.replace(/^s3n:/, "s3:"), "the cluster's log URI");
  const key = [base.prefix, clusterId, "steps", id, "stderr.gz"].filter(Boolean).join("/");
  let body: Uint8Array;
  try {
    const res = await aws.s3.send(new GetObjectCommand({ Bucket: base.bucket, Key: key }));
    body = await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  } catch (err) {
    const { name, status: code } = awsErrorInfo(err);
    if (code === 404 || name === "NoSuchKey") {
      throw new OrchardError("setup", {
        message: `no stderr for step ${id} yet at s3://${base.bucket}/${key} (EMR copies step logs to S3 about every 5 minutes)`,
      });
    }
    throw awsFailure(`GetObject s3://${base.bucket}/${key}`, err);
  }
  const text = key.endsWith(".gz") ? gunzipSync(body).toString("utf8") : Buffer.from(body).toString("utf8");
  for (const line of text.replace(/\n$/, "").split("\n")) io.out(line);
}

export async function down(aws: AwsClients, clusterId: string, io: Io): Promise<void> {
  await call("TerminateJobFlows", () => aws.emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [clusterId] })));
  io.err(`terminating ${clusterId}`);
}

// ---------------------------------------------------------------------------------------------
// connect

export interface ConnectResult {
  sessionId: string;
  endpoint: string;
  remote: string;
  token: string | undefined;
  expires: Date | undefined;
}

/**
 * The Spark Connect URL for an EMR session endpoint: `sc://host:port/;use_ssl=true;token=...`.
 * EMR returns the endpoint as a URL (https:// or sc://) or host:port; TLS is always on (443 by default).
 */
export function sparkRemoteFor(endpoint: string, token: string | undefined): string {
  const trimmed = endpoint.trim();
  let host: string;
  let port: string;
  if (/^[a-z]+:\/\//i.test(trimmed)) {
    const u = new URL(trimmed.replace(/^sc:/i, "https:"));
    host = u.hostname;
    port = u.port || "443";
  } else {
    const m = /^([^:/]+)(?::(\d+))?/.exec(trimmed);
    if (!m)
      throw new SetupError({ component: "emr", message: `EMR returned an endpoint orchard cannot read: ${trimmed}` });
    host = m[1] as string;
    port = m[2] ?? "443";
  }
  return `sc://${host}:${port}/;use_ssl=true${token ? `;token=${token}` : ""}`;
}

export async function connect(
  aws: AwsClients,
  {
    clusterId,
    pollSeconds,
    timeoutSeconds,
    idleMinutes,
  }: { clusterId: string; pollSeconds: number; timeoutSeconds: number; idleMinutes: number },
  io: Io,
): Promise<ConnectResult> {
  let started: { Id?: string | undefined };
  try {
    started = await aws.emr.send(
      new StartSessionCommand({ ClusterId: clusterId, Name: "orchard", SessionIdleTimeoutInMinutes: idleMinutes }),
    );
  } catch (err) {
    const { name, status: code } = awsErrorInfo(err);
    const httpStatus = code ?? (err as { $response?: { statusCode?: number } }).$response?.statusCode;
    const notAws = name === "SyntaxError"; // an HTML or empty answer: no such operation there
    if (
      notAws ||
      name === "UnknownOperationException" ||
      name === "InvalidAction" ||
      httpStatus === 404 ||
      httpStatus === 501
    ) {
      throw new SetupError({
        component: "emr",
        message: `this EMR endpoint does not implement StartSession (${name}): managed Spark Connect sessions need EMR on EC2 with emr-spark-8.x`,
        cause: err,
      });
    }
    throw awsFailure("StartSession", err);
  }
  const sessionId = started.Id as string;
  io.err(`session ${sessionId} starting on ${clusterId}`);
  const t0 = Date.now();
  for (;;) {
    const s = (
      await call("GetSession", () =>
        aws.emr.send(new GetSessionCommand({ ClusterId: clusterId, SessionId: sessionId })),
      )
    ).Session;
    const state = s?.State ?? "UNKNOWN";
    if (state === "STARTED" || state === "IDLE" || state === "BUSY") break;
    if (state === "FAILED" || state === "TERMINATED" || state === "TERMINATING") {
      throw new OrchardError("setup", {
        message: `session ${sessionId} ${state}${s?.StateChangeReason ? `: ${s.StateChangeReason}` : ""}`,
      });
    }
    if (Date.now() - t0 > timeoutSeconds * 1000) {
      throw new OrchardError("setup", { message: `session ${sessionId} still ${state} after ${timeoutSeconds} s` });
    }
    await sleep(pollSeconds * 1000);
  }
  const ep = await call("GetSessionEndpoint", () =>
    aws.emr.send(new GetSessionEndpointCommand({ ClusterId: clusterId, SessionId: sessionId })),
  );
  if (!ep.Endpoint)
    throw new SetupError({ component: "emr", message: `GetSessionEndpoint returned no endpoint for ${sessionId}` });
  return {
    sessionId,
    endpoint: ep.Endpoint,
    remote: sparkRemoteFor(ep.Endpoint, ep.AuthToken),
    token: ep.AuthToken,
    expires: ep.AuthTokenExpirationTime,
  };
}
