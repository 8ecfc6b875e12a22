/**
 * Features of a handful of images straight from a sidecar, in the calling process: one
 * `DoExchange` over loopback, no Spark job and no bridge process. For the driver's small,
 * latency-bound cases (a photo to classify); anything larger goes through Spark's executors.
 */
import { FlightClient } from "./client.ts";
import type { FeatureRow } from "./feature-schema.ts";

/** One image to featurize: an id of the caller's (echoed back) and its encoded bytes. */
export interface DirectImage {
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** A connection to one sidecar that featurizes small batches in this process. */
export interface DirectFeaturizer {
  /** The sidecar's answer for each image, in input order (a failed image has its `error`). */
  featurize(images: readonly DirectImage[]): Promise<FeatureRow[]>;
  close(): void;
}

/** Images per Flight batch: well under the sidecar's `--max-batch-rows`. */
const BATCH = 64;

/** How long the first contact (health challenge) may take before the sidecar counts as absent. */
const CONTACT_TIMEOUT_MS = 2_000;

/**
 * Connects to the sidecar at `address` and checks that it is the one holding the secret in
 * `secretFile` (its proof of the secret, as the bridges check); throws a `FlightCallError` or
 * `SidecarAuthError` when no such sidecar answers.
 */
export async function directFeaturizer(
  address: string,
  { secretFile }: { secretFile: string },
): Promise<DirectFeaturizer> {
  const client = new FlightClient(address, { secretFile });
  try {
    await client.proveServer(CONTACT_TIMEOUT_MS);
  } catch (err) {
    client.close();
    throw err;
  }
  return {
    async featurize(images) {
      if (images.length === 0) return [];
      const exchange = client.featureExchange();
      const rows: FeatureRow[] = [];
      const answered = (async () => {
        for await (const batch of exchange.batches()) rows.push(...batch);
      })();
      for (let start = 0; start < images.length; start += BATCH) {
        const slice = images.slice(start, start + BATCH);
        await exchange.send(
          slice.map((i) => i.id),
          slice.map((i) => i.bytes),
        );
      }
      exchange.end();
      await answered;
      return rows;
    },
    close: () => client.close(),
  };
}
