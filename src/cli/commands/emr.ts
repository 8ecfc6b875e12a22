import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { ConfigError } from "../../errors.ts";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";

// The AWS SDK and the EMR code load when a verb runs, not when the program is built: `orchard --help` stays fast.
const emrModules = async () => ({
  aws: await import("../../emr/aws-clients.ts"),
  ops: await import("../../emr/cluster-ops.ts"),
});

// The option schemas (zod) load when a verb runs, not when the program is built.
const options = () => import("./emr-options.ts");

function withAwsFlags(cmd: Command): Command {
  return cmd
    .option("--region <region>", "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
    .option("--endpoint-url <url>", "another endpoint for the EMR and S3 APIs (tests, S3-compatible stores)")
    .option("--poll-seconds <s>", "how often to poll while waiting (default 30)");
}

/** A model name from the catalog (in orchard's cache), or a folder holding manifest.json. */
function modelDir(ctx: CliContext, model: string): string {
  if (existsSync(join(model, "manifest.json"))) return resolve(model);
  if (!/^[\w.-]+$/.test(model)) {
    throw new ConfigError({ field: "--model", expected: "a catalog model name or a folder holding manifest.json" });
  }
  return join(ctx.layout.cacheRoot, "models", model);
}

/** `orchard emr up|submit|status|logs|connect|down`: orchard on AWS EMR (emr-spark-8.x). */
export function registerEmrCommand(program: Command, ctx: CliContext): void {
  const emr = program
    .command("emr")
    .description(
      "run orchard on AWS EMR: start a cluster, submit runs, follow them, stop it (AWS default credentials)",
    );

  withAwsFlags(
    emr
      .command("up")
      .description("stage orchard, the model and the bootstrap in S3, start a cluster and wait until it is WAITING"),
  )
    .requiredOption("--staging <s3-uri>", "where to stage: s3://BUCKET/PREFIX (logs go to PREFIX/logs/)")
    .option("--definition <file>", "cluster definition: a RunJobFlow request (default emr/cluster.json)")
    .option("--release-label <label>", "EMR release (default emr-spark-8.1.0)")
    .option("--name <name>", "cluster name (default orchard)")
    .option("--primary-instance-type <type>", "primary node instance type (default m6i.xlarge)")
    .option("--core-instance-type <type>", "core nodes' instance type (default c6i.2xlarge)")
    .option("--core-count <n>", "number of core nodes (default 2)")
    .option("--spot", "core nodes on the spot market (the primary stays on demand)")
    .option("--subnet-id <id>", "VPC subnet (default: the account's default VPC)")
    .option("--idle-minutes <n>", "terminate after this long without work (default 60)")
    .option("--log-uri <s3-uri>", "where EMR writes logs (default STAGING/logs/)")
    .option(
      "--package-dir <dir>",
      "folder with orchard-<v>.tgz and orchard-udf-server-<v>.tgz (default: pack this orchard)",
    )
    .option("--model <name|dir>", "model to stage (default efficientnet-lite0, from orchard's cache)")
    .option("--no-wait", "print the cluster id and return without waiting")
    .option("--timeout <seconds>", "how long to wait for WAITING (default 3600)")
    .option("--dry-run", "print the RunJobFlow request and the files to stage; call nothing")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).emrUpOptions, raw);
      const { readDefinition, buildRunJobFlowRequest } = await import("../../emr/cluster-definition.ts");
      const { parseS3Uri } = await import("../../emr/s3-location.ts");
      const { packageTarballs, stagingPlan } = await import("../../emr/staging.ts");
      const staging = parseS3Uri(opts.staging, "--staging");
      const request = buildRunJobFlowRequest(readDefinition(opts.definition), {
        staging,
        overrides: {
          name: opts.name,
          releaseLabel: opts.releaseLabel,
          primaryInstanceType: opts.primaryInstanceType,
          coreInstanceType: opts.coreInstanceType,
          coreCount: opts.coreCount,
          spot: opts.spot,
          subnetId: opts.subnetId,
          idleTimeoutSeconds: opts.idleMinutes === undefined ? undefined : opts.idleMinutes * 60,
          logUri: opts.logUri?.replace(/^s3a:/, "s3:"),
        },
      });
      const model = modelDir(ctx, opts.model);
      if (opts.dryRun) {
        ctx.out(JSON.stringify(request, null, 2));
        return;
      }
      const { aws, ops } = await emrModules();
      const clients = await aws.awsClients({ region: opts.region, endpointUrl: opts.endpointUrl, env: ctx.env });
      const { checkBucket } = await import("../../emr/staging.ts");
      await checkBucket(clients.s3, staging.bucket, "--staging");
      let tarballs: string[];
      if (opts.packageDir) {
        tarballs = packageTarballs(resolve(opts.packageDir));
      } else {
        const { packRunningOrchard } = await import("../../emr/packages.ts");
        tarballs = await packRunningOrchard(ctx.layout.cacheRoot, (l) => ctx.err(l));
      }
      const plan = stagingPlan({ tarballs, modelDir: model });
      await ops.up(
        clients,
        { staging, request, plan, wait: opts.wait, pollSeconds: opts.pollSeconds, timeoutSeconds: opts.timeout },
        ctx,
      );
    });

  withAwsFlags(
    emr
      .command("submit")
      .description("add a step running `orchard submit --master yarn ...` on the primary node")
      .argument("<args...>", "after --: run --input s3://... --output s3://..., or a script and its arguments"),
  )
    .requiredOption("--cluster-id <id>", "the cluster (j-...)")
    .option("--name <name>", "step name")
    .option("--wait", "follow the step to its end and exit with its result")
    .action(async (args: string[], raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).emrSubmitOptions, raw);
      const { aws, ops } = await emrModules();
      const clients = await aws.awsClients({ region: opts.region, endpointUrl: opts.endpointUrl, env: ctx.env });
      await ops.submit(
        clients,
        { clusterId: opts.clusterId, args, name: opts.name, wait: opts.wait, pollSeconds: opts.pollSeconds },
        ctx,
      );
    });

  withAwsFlags(emr.command("status").description("the cluster's state and its steps"))
    .requiredOption("--cluster-id <id>", "the cluster (j-...)")
    .option("--json", "print JSON")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).emrClusterOptions, raw);
      const { aws, ops } = await emrModules();
      const clients = await aws.awsClients({ region: opts.region, endpointUrl: opts.endpointUrl, env: ctx.env });
      const s = await ops.status(clients, opts.clusterId);
      if (opts.json) ctx.out(JSON.stringify(s, null, 2));
      else for (const line of ops.formatStatus(s)) ctx.out(line);
    });

  withAwsFlags(
    emr.command("logs").description("a step's stderr, from the cluster's log URI (default: the latest step)"),
  )
    .requiredOption("--cluster-id <id>", "the cluster (j-...)")
    .option("--step-id <id>", "the step (s-...)")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).emrClusterOptions, raw);
      const { aws, ops } = await emrModules();
      const clients = await aws.awsClients({ region: opts.region, endpointUrl: opts.endpointUrl, env: ctx.env });
      await ops.logs(clients, opts.clusterId, opts.stepId, ctx);
    });

  withAwsFlags(
    emr
      .command("connect")
      .description("start a managed Spark Connect session (emr-spark-8.x) and print its SPARK_REMOTE (token hidden)"),
  )
    .requiredOption("--cluster-id <id>", "the cluster (j-...)")
    .option("--show-token", "print `export SPARK_REMOTE=...` with the session token (for eval)")
    .option("--env-file <file>", "write SPARK_REMOTE=... with the token to this file (mode 0600)")
    .option("--idle-minutes <n>", "end the session after this long idle (default 60)")
    .option("--timeout <seconds>", "how long to wait for the session (default 900)")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).emrClusterOptions, raw);
      const { aws, ops } = await emrModules();
      const clients = await aws.awsClients({ region: opts.region, endpointUrl: opts.endpointUrl, env: ctx.env });
      const r = await ops.connect(
        clients,
        {
          clusterId: opts.clusterId,
          pollSeconds: opts.pollSeconds,
          timeoutSeconds: opts.timeout,
          idleMinutes: opts.idleMinutes,
        },
        ctx,
      );
      if (opts.envFile) {
        writeFileSync(opts.envFile, `SPARK_REMOTE=${r.remote}\n`, { mode: 0o600 });
        ctx.err(`wrote SPARK_REMOTE to ${opts.envFile} (mode 0600)`);
      }
      if (opts.showToken) {
        ctx.out(`export SPARK_REMOTE='${r.remote}'`);
      } else {
        ctx.out(`SPARK_REMOTE=${r.token ? r.remote.replace(r.token, "<token>") : r.remote}`);
        ctx.err(
          'the token is hidden: --show-token prints it (eval "$(orchard emr connect ... --show-token)"), --env-file writes it',
        );
      }
      ctx.err(
        `session ${r.sessionId}${r.expires ? `; token expires ${r.expires.toISOString()} (run connect again for a new one)` : ""}; TLS on; no CA certificate is returned by this API (the system's CAs are used)`,
      );
    });

  emr
    .command("policy")
    .description("print the instance profile's S3 policy (emr/iam/) for your input, output and staging prefixes")
    .requiredOption("--input <s3-uri>", "where the images are (read only)")
    .requiredOption("--output <s3-uri>", "where runs write (read, write, delete)")
    .requiredOption("--staging <s3-uri>", "what emr up stages (read) and the logs below it (write)")
    .requiredOption("--region <region>", "the cluster's region (EMR's own regional bucket is readable)")
    .requiredOption("--account-id <id>", "your AWS account id (12 digits)")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).emrPolicyOptions, raw);
      const { parseS3Uri } = await import("../../emr/s3-location.ts");
      const { renderInstancePolicy } = await import("../../emr/instance-policy.ts");
      const doc = renderInstancePolicy({
        input: parseS3Uri(opts.input, "--input"),
        output: parseS3Uri(opts.output, "--output"),
        staging: parseS3Uri(opts.staging, "--staging"),
        region: opts.region,
        accountId: opts.accountId,
      });
      ctx.out(JSON.stringify(doc, null, 2));
    });

  withAwsFlags(emr.command("down").description("terminate the cluster (TerminateJobFlows)"))
    .requiredOption("--cluster-id <id>", "the cluster (j-...)")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).emrClusterOptions, raw);
      const { aws, ops } = await emrModules();
      const clients = await aws.awsClients({ region: opts.region, endpointUrl: opts.endpointUrl, env: ctx.env });
      await ops.down(clients, opts.clusterId, ctx);
    });
}
