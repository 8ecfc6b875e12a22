import { describe, expect, it } from "vitest";
import { trainOptions } from "../../src/cli/commands/train-options.ts";
import { parseConfig } from "../../src/cli/config-parse.ts";
import { perClass } from "../../src/pipeline/classifier-metrics.ts";

describe("perClass (macro F1 and per-class accuracy from a confusion matrix)", () => {
  it("averages the per-class F1 without weights", () => {
    // a: 3 right, 1 as b; b: 2 right; c: 1 right, 1 as a.
    const { macroF1, perClassAccuracy } = perClass({
      labels: ["a", "b", "c"],
      counts: [
        [3, 1, 0],
        [0, 2, 0],
        [1, 0, 1],
      ],
    });
    const f1 = (p: number, r: number) => (2 * p * r) / (p + r);
    expect(macroF1).toBeCloseTo((f1(3 / 4, 3 / 4) + f1(2 / 3, 1) + f1(1, 1 / 2)) / 3, 12);
    expect(perClassAccuracy).toEqual({ a: 0.75, b: 1, c: 0.5 });
  });

  it("leaves out a class absent from both the test set and the predictions; one only predicted scores 0", () => {
    const { macroF1, perClassAccuracy } = perClass({
      labels: ["a", "b", "c"],
      counts: [
        [2, 0, 1],
        [0, 2, 0],
        [0, 0, 0],
      ],
    });
    // c never occurs but is predicted once: F1 0. a: p=1, r=2/3. b: 1.
    expect(macroF1).toBeCloseTo((0.8 + 1 + 0) / 3, 12);
    expect(perClassAccuracy).toEqual({ a: 2 / 3, b: 1 });
    expect(
      perClass({
        labels: ["a", "b"],
        counts: [
          [1, 0],
          [0, 0],
        ],
      }).macroF1,
    ).toBe(1);
  });
});

describe("orchard train options", () => {
  it("defaults the seed, and refuses a fraction outside (0, 1) or both split kinds, naming the flag", () => {
    expect(parseConfig(trainOptions, {})).toEqual({ seed: 42 });
    expect(() => parseConfig(trainOptions, { testFraction: "1" })).toThrow(
      "invalid --test-fraction: expected a share of the rows in (0, 1), e.g. 0.2",
    );
    expect(() => parseConfig(trainOptions, { testFraction: "0.2", testFolder: "Test" })).toThrow(
      "invalid --test-fraction: expected one of --test-fraction or --test-folder, not both",
    );
    expect(() => parseConfig(trainOptions, { testFolder: "a/b" })).toThrow("invalid --test-folder");
    expect(() => parseConfig(trainOptions, { clusters: "1" })).toThrow(
      "invalid --clusters: expected a whole number of clusters >= 2",
    );
  });
});
