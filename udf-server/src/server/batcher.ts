/**
 * Dynamic batching across streams: every exchange submits its images here; the batcher runs
 * the shared featurizer on batches of up to `maxBatch` images, waiting at most `maxWaitMs`
 * for a batch to fill, with at most `maxConcurrentBatches` batches in the model at once.
 * FIFO across all streams, so each stream's results come back in its own order.
 *
 * A featurizer that throws (the model or its runtime failed, not an image) fails the whole batch:
 * the submissions holding its images reject with a `FeaturizerFailure`, so the exchanges fail and
 * their clients send the rows again. Such a failure is never turned into per-image error results.
 */
import type { FeatureResult, Featurizer } from "../featurizer.ts";
import { FeaturizerFailure } from "./featurizer-failure.ts";

/** Batching settings (reported by `DoAction("info")`). */
export interface BatchingOptions {
  /** Largest batch handed to the featurizer. */
  maxBatch: number;
  /** Longest time the first queued image waits for a batch to fill, in ms. */
  maxWaitMs: number;
  /** Batches running in the featurizer at once (2 overlaps decoding of one with inference of another). */
  maxConcurrentBatches: number;
}

interface Pending {
  image: Uint8Array | null;
  enqueuedAt: number;
  cancelled: boolean;
  resolve: (r: FeatureResult) => void;
  reject: (err: FeaturizerFailure) => void;
}

/** A submitted group of images whose results can be awaited, or cancelled while still queued. */
export interface Submission {
  /** Rejects with a `FeaturizerFailure` when the batch holding one of these images failed. */
  readonly results: Promise<FeatureResult[]>;
  /** Drops the images not yet handed to the model (their results become a "cancelled" error). */
  cancel(): void;
}

/** Counters for `health` and the bench. */
export interface BatcherStats {
  queued: number;
  running: number;
  batches: number;
  images: number;
}

const CANCELLED: FeatureResult = { features: null, error: "cancelled", width: null, height: null };

export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private head = 0;
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private batches = 0;
  private images = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly progressListeners = new Set<() => void>();

  constructor(
    private readonly featurizer: Featurizer,
    readonly options: BatchingOptions,
  ) {}

  /** Images waiting for a batch. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  get stats(): BatcherStats {
    return { queued: this.queued, running: this.running, batches: this.batches, images: this.images };
  }

  /** Calls `listener` after every batch completes (exchanges use it to resume paused reads). */
  onProgress(listener: () => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /** Queues `images`; results come back in the same order. */
  submit(images: ReadonlyArray<Uint8Array | null>): Submission {
    const now = performance.now();
    const items: Pending[] = [];
    const promises = images.map(
      (image) =>
        new Promise<FeatureResult>((resolve, reject) => {
          const item: Pending = { image, enqueuedAt: now, cancelled: false, resolve, reject };
          items.push(item);
          this.queue.push(item);
        }),
    );
    this.schedule();
    const results = Promise.all(promises);
    // A submission whose exchange is gone may fail with nobody waiting on it.
    results.catch(() => {});
    return {
      results,
      cancel: () => {
        for (const item of items) {
          if (!item.cancelled) {
            item.cancelled = true;
            item.resolve(CANCELLED);
          }
        }
      },
    };
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queued === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    this.dropCancelledHead();
    while (this.running < this.options.maxConcurrentBatches && this.queued > 0) {
      const oldest = this.queue[this.head];
      const waited = oldest ? performance.now() - oldest.enqueuedAt : 0;
      // A full batch goes at once; a partial one once its oldest image has waited maxWaitMs.
      if (this.queued >= this.options.maxBatch || waited >= this.options.maxWaitMs) {
        this.dispatch();
        this.dropCancelledHead();
        continue;
      }
      if (!this.timer) {
        this.timer = setTimeout(
          () => {
            this.timer = null;
            this.schedule();
          },
          Math.max(0, this.options.maxWaitMs - waited),
        );
      }
      return;
    }
    if (this.queued === 0 && this.running === 0) this.notifyIdle();
  }

  private dropCancelledHead(): void {
    while (this.head < this.queue.length && this.queue[this.head]?.cancelled) this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private dispatch(): void {
    const batch: Pending[] = [];
    while (batch.length < this.options.maxBatch && this.head < this.queue.length) {
      const item = this.queue[this.head++] as Pending;
      if (!item.cancelled) batch.push(item);
    }
    if (this.timer && this.queued === 0) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (batch.length === 0) return;
    this.running++;
    void this.run(batch);
  }

  private async run(batch: Pending[]): Promise<void> {
    let outcome: FeatureResult[] | FeaturizerFailure;
    try {
      const results = await this.featurizer.featurize(batch.map((p) => p.image));
      outcome =
        results.length === batch.length
          ? results
          : new FeaturizerFailure({
              message: `featurizer returned ${results.length} results for ${batch.length} images`,
            });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      outcome = new FeaturizerFailure({ message: `featurizer failed: ${message}`, cause });
    }
    this.running--;
    this.batches++;
    this.images += batch.length;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i] as Pending;
      if (outcome instanceof FeaturizerFailure) item.reject(outcome);
      else item.resolve(outcome[i] as FeatureResult);
    }
    this.schedule();
    for (const listener of this.progressListeners) listener();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }
}
