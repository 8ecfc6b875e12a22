import { InterruptedError } from "./errors.ts";

/**
 * Bounded exponential backoff with jitter for transient failures (UNAVAILABLE, dropped result
 * streams). PySpark equivalent: the `retry_policy` of `SparkConnectClient` (`RetryPolicy`).
 */
export interface RetryPolicy {
  /** Consecutive retries without progress before giving up. */
  maxRetries: number;
  /** The wait before the first retry, in milliseconds; doubled for each further one. */
  initialBackoffMs: number;
  /** The longest wait between two attempts, in milliseconds. */
  maxBackoffMs: number;
}

/** Default transient-failure policy: 6 retries, 100 ms doubling to at most 5 s, full jitter. */
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 6, initialBackoffMs: 100, maxBackoffMs: 5000 };

/** The wait before retry `attempt` (0-based): half the capped exponential step plus up to another half at random. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const cap = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}

/**
 * Waits the backoff for `attempt` (0-based) with full jitter; rejects with InterruptedError on
 * abort. PySpark: the wait of `pyspark.sql.connect.client.retries.Retrying`.
 */
export function backoff(policy: RetryPolicy, attempt: number, signal?: AbortSignal): Promise<void> {
  const ms = backoffMs(policy, attempt);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new InterruptedError({ message: "cancelled while waiting to retry" }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
