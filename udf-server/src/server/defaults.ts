/** Where a sidecar listens unless told otherwise (kept free of heavy imports: the bridge reads it). */

/** Default Flight port of the sidecar. */
export const DEFAULT_SIDECAR_PORT = 8815;
/** Default bind address: loopback only. */
export const DEFAULT_SIDECAR_HOST = "127.0.0.1";
/** Default `host:port` clients look for. */
export const DEFAULT_SIDECAR_ADDRESS = `${DEFAULT_SIDECAR_HOST}:${DEFAULT_SIDECAR_PORT}`;
