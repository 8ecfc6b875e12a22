/**
 * HTTP/2 keepalive of the Spark Connect channel: while a call is open, the client PINGs the
 * server after `timeMs` and fails the connection (UNAVAILABLE; a reattachable operation then
 * reattaches) when the PING has no answer within `timeoutMs`. Without it a silent network (a
 * half-open connection, a stalled proxy, a stopped server) blocks a call for ever.
 *
 * Spark's Netty server allows a client PING every 5 minutes (`permitKeepAliveTime`) and sends
 * GOAWAY `too_many_pings` after the third earlier one, unless it has written to the stream since;
 * it also ends every result stream after 2 minutes (`senderMaxStreamDuration`, the client
 * reattaches). The default 60 s therefore sends at most two PINGs on a quiet stream before it is
 * renewed. PySpark equivalent: the `grpc.keepalive_*` channel options of `ChannelBuilder`.
 */
export interface KeepalivePolicy {
  /** Quiet time before a PING, in milliseconds; 0 turns keepalive off. */
  timeMs: number;
  /** How long a PING may go unanswered, in milliseconds. */
  timeoutMs: number;
}

/** Default keepalive: PING after 60 s, 20 s to answer; a silent connection fails within 80 s. */
export const DEFAULT_KEEPALIVE: KeepalivePolicy = { timeMs: 60_000, timeoutMs: 20_000 };

/** The grpc-js channel options for `policy`. */
export function keepaliveChannelOptions(policy: KeepalivePolicy): Record<string, number> {
  return policy.timeMs > 0
    ? { "grpc.keepalive_time_ms": policy.timeMs, "grpc.keepalive_timeout_ms": policy.timeoutMs }
    : {};
}
