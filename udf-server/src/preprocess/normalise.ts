/** Decoded RGB pixels -> the model's input tensor layout. */

/**
 * Writes `pixels` (HWC RGB bytes) as normalised float32 CHW into `batch` at image slot `index`:
 * `(value - mean[c]) / std[c]`.
 */
export function writeNchw(
  pixels: Uint8Array,
  batch: Float32Array,
  index: number,
  area: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): void {
  const base = index * 3 * area;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / std[c];
    const shift = mean[c] * scale;
    const plane = base + c * area;
    for (let i = 0, j = c; i < area; i++, j += 3) batch[plane + i] = (pixels[j] as number) * scale - shift;
  }
}

/** Copies `pixels` (HWC RGB bytes) into a uint8 NHWC batch at image slot `index` (normalised inside the model). */
export function writeNhwc(pixels: Uint8Array, batch: Uint8Array, index: number, area: number): void {
  batch.set(pixels.subarray(0, area * 3), index * area * 3);
}
