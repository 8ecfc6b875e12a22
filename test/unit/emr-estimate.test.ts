import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { estimate, parsePrices, parseThroughput, type Throughput } from "../../src/emr/estimate.ts";

const EMR = join(import.meta.dirname, "..", "..", "emr");
const prices = parsePrices(JSON.parse(readFileSync(join(EMR, "prices.json"), "utf8")), "emr/prices.json");
const throughput: Throughput = {
  format: "orchard-throughput/1",
  measured: "2026-12-02T15:00:00Z",
  source: "bench/pipeline/run.ts",
  machine: { cores: 2, cpu: "test cpu", loadAverage1m: 1 },
  model: "efficientnet-lite0",
  imagesPerSecondPerCore: { endToEnd: 50, features: 60 },
};
const input = {
  images: 1_000_000,
  instanceType: "c6i.2xlarge",
  primaryInstanceType: "m6i.xlarge",
  nodes: 4,
  region: "us-east-1",
  startupMinutes: 12,
  rootGb: 30,
  coreEbsGb: 64,
};

describe("orchard estimate's arithmetic", () => {
  it("time from images/s per core x vCPUs x nodes, cost from EC2 + EMR prices", () => {
    const e = estimate(input, prices, throughput);
    expect(e.clusterImagesPerSecond).toBe(50 * 8 * 4);
    expect(e.workHours).toBeCloseTo(1e6 / 1600 / 3600, 6);
    expect(e.totalHours).toBeCloseTo(e.workHours + 0.2, 6);
    const compute = 0.192 + 0.048 + 4 * (0.34 + 0.085);
    expect(e.hourlyCost).toBeGreaterThan(compute);
    expect(e.hourlyCost).toBeLessThan(compute + 0.05); // EBS is a few cents
    expect(e.cost).toBeCloseTo(e.hourlyCost * e.totalHours, 6);
    expect(e.assumptions.join("\n")).toMatch(/50 images\/s per core/);
    expect(e.assumptions.join("\n")).toMatch(/NOT re-checked/);
  });

  it("says when the throughput was measured on a busy machine", () => {
    const busy = { ...throughput, machine: { ...throughput.machine, loadAverage1m: 9 } };
    expect(estimate(input, prices, busy).assumptions.join("\n")).toMatch(/busy machine \(load average 9 on 2 cores\)/);
    expect(estimate(input, prices, throughput).assumptions.join("\n")).not.toMatch(/busy machine/);
  });

  it("an instance type or region outside the price table is a config error naming the flag", () => {
    expect(() => estimate({ ...input, instanceType: "x9.huge" }, prices, throughput)).toThrow(
      /invalid --instance-type/,
    );
    expect(() => estimate({ ...input, region: "mars-1" }, prices, throughput)).toThrow(/invalid --region/);
  });

  it("every price in the table has its region's date and the sources", () => {
    expect(Object.keys(prices.sources)).toEqual(["ec2", "emr", "ebs"]);
    for (const region of Object.values(prices.regions)) {
      expect(region.asOf).toMatch(/^\d{4}/);
      for (const p of Object.values(region.instances)) expect(p.emr).toBeLessThan(p.ec2);
    }
  });

  it("a throughput file with the wrong shape is refused, naming the field", () => {
    expect(() => parseThroughput({ format: "orchard-throughput/1" }, "--throughput")).toThrow(
      /invalid --throughput \(measured\)/,
    );
  });
});
