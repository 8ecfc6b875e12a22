/**
 * Is a sidecar answering at an address, and what is it serving? Asks `DoAction("health")` and
 * `DoAction("info")` over Flight.
 */
import { FlightClient } from "../../flight/client.ts";
import type { HealthReport, InfoReport } from "../server/flight-server.ts";

/** What `sidecarStatus` found. */
export interface SidecarStatus {
  address: string;
  reachable: boolean;
  health?: HealthReport;
  info?: InfoReport;
  /** Why it is not reachable. */
  error?: string;
}

/** Checks the sidecar at `address` (`host:port`); never throws. */
export async function sidecarStatus(address: string, timeoutMs = 2000): Promise<SidecarStatus> {
  const client = new FlightClient(address);
  try {
    const health = await client.actionJson<HealthReport>("health", timeoutMs);
    const info = await client.actionJson<InfoReport>("info", timeoutMs);
    return { address, reachable: true, health, info };
  } catch (err) {
    return { address, reachable: false, error: err instanceof Error ? err.message : String(err) };
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
