/**
 * What a model expects of its input pixels, as declared in its manifest.json: the size, how the
 * image is brought to that size, and the per-channel normalisation `(pixel - mean) / std` on RGB.
 */
export interface PreprocessSpec {
  /** Model input [height, width]. */
  size: [height: number, width: number];
  /**
   * `center-crop`: crop the centre `cropFraction` of the image (aspect kept: the shorter side is
   * scaled to `size / cropFraction`), as in the ImageNet evaluation protocol. `stretch`: resize the
   * whole image to `size`, aspect not kept.
   */
  resize: "center-crop" | "stretch";
  /** For `center-crop`: the fraction of the scaled image kept (e.g. 0.875 = 224 of 256). */
  cropFraction: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** `float32-nchw`: the model takes normalised floats; `uint8-nhwc`: raw RGB bytes, normalised inside the graph. */
  inputFormat: "float32-nchw" | "uint8-nhwc";
}

/** Limits that protect the sidecar from hostile or accidental huge inputs. */
export interface ImageLimits {
  /** Largest accepted encoded image in bytes. */
  maxInputBytes: number;
  /** Largest accepted decoded image in pixels (width x height x frames read). */
  maxPixels: number;
}

export const DEFAULT_LIMITS: ImageLimits = { maxInputBytes: 50 * 1024 * 1024, maxPixels: 100_000_000 };
