/**
 * Is a sidecar answering at an address, what is it serving, and how many rows has it answered?
 * Asks `DoAction("health")` (open) and `DoAction("info")` (needs the sidecar's secret file) over Flight.
 */
import { FlightCallError, FlightClient } from "../flight/client.ts";
import type { HealthReport, InfoReport } from "../server/flight-server.ts";

/** What `sidecarStatus` found. */
export interface SidecarStatus {
  address: string;
  reachable: boolean;
  health?: HealthReport;
  /** Only with the sidecar's secret file (`info` requires the secret). */
  info?: InfoReport;
  /** Why it is not reachable, or why `info` is missing. */
  error?: string;
}

/**
 * Checks the sidecar at `address` (`host:port`); never throws. Without `secretFile` (or when the
 * sidecar refuses it) only `health` is reported.
 */
export async function sidecarStatus(address: string, timeoutMs = 2000, secretFile?: string): Promise<SidecarStatus> {
  const client = new FlightClient(address, secretFile === undefined ? {} : { secretFile });
  const why = (err: unknown) => (err instanceof Error ? err.message : String(err));
  try {
    const health = await client.actionJson<HealthReport>("health", timeoutMs);
    if (secretFile === undefined) return { address, reachable: true, health, error: "info needs the sidecar's secret" };
    try {
      const info = await client.actionJson<InfoReport>("info", timeoutMs);
      return { address, reachable: true, health, info };
    } catch (err) {
      return { address, reachable: true, health, error: why(err) };
    }
  } catch (err) {
    return { address, reachable: false, error: why(err) };
  } finally {
    client.close();
  }
}

/** Whether the sidecar at `address` answers `health` within `timeoutMs`. */
export async function isSidecarHealthy(address: string, timeoutMs = 1000): Promise<boolean> {
  const client = new FlightClient(address);
  try {
    const h = await client.actionJson<HealthReport>("health", timeoutMs);
    return h.status === "ok";
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Rows a sidecar has answered over its life: with features, and with an error. */
export interface RowCounts {
  rowsServed: number;
  rowsFailed: number;
}

/** Reads a sidecar's row counters repeatedly over one connection (for live progress). */
export interface RowCounter {
  /** The counters now; rejects when the sidecar does not answer within `timeoutMs`. */
  read(timeoutMs: number): Promise<RowCounts>;
  close(): void;
}

/** Opens a {@link RowCounter} on the sidecar at `address` (`host:port`) with its secret file; connects lazily. */
export function rowCounter(address: string, secretFile: string): RowCounter {
  const client = new FlightClient(address, { secretFile });
  return {
    async read(timeoutMs) {
      const { rowsServed, rowsFailed } = await client.actionJson<Partial<InfoReport>>("info", timeoutMs);
      if (typeof rowsServed !== "number" || typeof rowsFailed !== "number") {
        throw new FlightCallError(`the sidecar at ${address} keeps no row counters (an older version)`, null);
      }
      return { rowsServed, rowsFailed };
    },
    close: () => client.close(),
  };
}
