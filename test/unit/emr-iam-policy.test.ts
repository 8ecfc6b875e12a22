// The instance profile's policy (emr/iam/): no wildcard resource on any S3 action, and only the
// named prefixes: reads on the input and staging prefixes, writes on the output and log prefixes.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { instancePolicyTemplate, type PolicyDocument, renderInstancePolicy } from "../../src/emr/instance-policy.ts";

const IAM_DIR = join(import.meta.dirname, "..", "..", "emr", "iam");
const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);
const s3Statements = (doc: PolicyDocument) =>
  doc.Statement.filter((s) => list(s.Action).some((a) => a.startsWith("s3:")));

const prefixes = {
  input: { bucket: "photos-in", prefix: "fruits/Training" },
  output: { bucket: "photos-out", prefix: "runs/2026" },
  staging: { bucket: "orchard-ops", prefix: "emr/stage" },
  region: "eu-west-1",
  accountId: "123456789012",
};

const READ = new Set(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]);

describe("emr/iam policy documents", () => {
  it("every policy document in emr/iam/ has no '*' resource on an S3 action, nor an s3:* action", () => {
    for (const file of readdirSync(IAM_DIR).filter((f) => f.endsWith(".json"))) {
      const doc = JSON.parse(readFileSync(join(IAM_DIR, file), "utf8"));
      if (!Array.isArray(doc.Statement)) continue;
      for (const s of s3Statements(doc)) {
        expect(list(s.Resource), `${file} ${s.Sid}`).not.toContain("*");
        expect(list(s.Action), `${file} ${s.Sid}`).not.toContain("s3:*");
        for (const r of list(s.Resource)) expect(r, `${file} ${s.Sid}`).not.toMatch(/^arn:aws:s3:::\*/);
      }
    }
  });

  it("rendered, it names only the input, output, staging and log prefixes (and EMR's own regional bucket, read-only)", () => {
    const doc = renderInstancePolicy(prefixes, instancePolicyTemplate());
    const allowedObjects = {
      read: [
        "arn:aws:s3:::photos-in/fruits/Training/*",
        "arn:aws:s3:::orchard-ops/emr/stage/*",
        "arn:aws:s3:::eu-west-1.elasticmapreduce/*",
      ],
      write: ["arn:aws:s3:::photos-out/runs/2026/*", "arn:aws:s3:::orchard-ops/emr/stage/logs/*"],
    };
    const buckets = ["arn:aws:s3:::photos-in", "arn:aws:s3:::photos-out", "arn:aws:s3:::orchard-ops"];
    const statements = s3Statements(doc);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Effect).toBe("Allow");
      const actions = list(s.Action);
      for (const r of list(s.Resource)) {
        expect(r).not.toContain("{{");
        if (!r.includes("/")) {
          expect(buckets, `${s.Sid}`).toContain(r);
          expect(
            actions.every((a) => a === "s3:ListBucket" || a === "s3:GetBucketLocation"),
            `${s.Sid}`,
          ).toBe(true);
        } else if (actions.every((a) => READ.has(a))) {
          expect(allowedObjects.read, `${s.Sid}`).toContain(r);
        } else {
          expect(allowedObjects.write, `${s.Sid}: a write may only touch the output and the logs`).toContain(r);
        }
      }
      if (actions.includes("s3:ListBucket")) {
        // Each bucket is listable only below its own named prefix.
        const expected: Record<string, string[]> = {
          "arn:aws:s3:::photos-in": ["fruits/Training", "fruits/Training/*"],
          "arn:aws:s3:::photos-out": ["runs/2026", "runs/2026/*"],
          "arn:aws:s3:::orchard-ops": ["emr/stage", "emr/stage/*"],
        };
        expect(list(s.Resource), `${s.Sid}`).toHaveLength(1);
        expect(s.Condition?.StringLike?.["s3:prefix"], `${s.Sid}`).toEqual(expected[list(s.Resource)[0] as string]);
      }
    }
    // Writes exist for exactly the output and the logs.
    const written = statements
      .filter((s) => list(s.Action).some((a) => a === "s3:PutObject"))
      .flatMap((s) => list(s.Resource))
      .sort();
    expect(written).toEqual([...allowedObjects.write].sort());
  });

  it("a whole bucket as a prefix gives bucket/* and a '*' prefix condition, never a doubled slash", () => {
    const doc = renderInstancePolicy({ ...prefixes, input: { bucket: "whole", prefix: "" } }, instancePolicyTemplate());
    const resources = doc.Statement.flatMap((s) => list(s.Resource));
    expect(resources).toContain("arn:aws:s3:::whole/*");
    expect(resources.some((r) => r.includes("//"))).toBe(false);
    const like = doc.Statement.find((s) => list(s.Action).includes("s3:ListBucket"))?.Condition?.StringLike?.[
      "s3:prefix"
    ];
    expect(like).toContain("*");
    expect(like).not.toContain("");
  });

  it("the service role uses AWS's managed EMR policy; the instance role SSM's (no SSH)", () => {
    const managed = JSON.parse(readFileSync(join(IAM_DIR, "managed-policies.json"), "utf8"));
    expect(managed["orchard-emr-service-role"]).toEqual([
      "arn:aws:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2",
    ]);
    expect(managed["orchard-emr-instance-role"]).toEqual(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
  });
});
