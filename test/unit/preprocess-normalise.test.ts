import { describe, expect, it } from "vitest";
import { writeNchw, writeNhwc } from "../../udf-server/src/preprocess/normalise.ts";

describe("writeNchw", () => {
  it("writes (value - mean) / std per channel, planar, at the image's slot", () => {
    const pixels = Uint8Array.from([0, 127, 255, 10, 20, 30]);
    const batch = new Float32Array(2 * 3 * 2).fill(99);
    writeNchw(pixels, batch, 1, 2, [0, 127, 255], [1, 2, 5]);
    expect(Array.from(batch.subarray(0, 6))).toEqual([99, 99, 99, 99, 99, 99]);
    expect(Array.from(batch.subarray(6))).toEqual([0, 10, 0, -53.5, 0, -45]);
  });
});

describe("writeNhwc", () => {
  it("copies the bytes into the image's slot", () => {
    const batch = new Uint8Array(12);
    writeNhwc(Uint8Array.from([1, 2, 3, 4, 5, 6]), batch, 1, 2);
    expect(Array.from(batch)).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
  });
});
