import { ConfigError } from "../errors.ts";

/** Default Spark Connect port (the server's `spark.connect.grpc.binding.port` default). */
const DEFAULT_PORT = 15002;

/** The default URL when neither the caller nor `SPARK_REMOTE` names one. */
export const DEFAULT_REMOTE = "sc://localhost:15002";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KNOWN = new Set(["token", "use_ssl", "user_id", "session_id", "user_agent"]);

/**
 * A parsed Spark Connect URL, `sc://host[:port][/;key=value;...]`, with the same parameters as
 * PySpark's `ChannelBuilder`:
 *
 * | parameter | meaning |
 * | --- | --- |
 * | `token` | bearer credential, sent as `authorization: Bearer <token>` on every call |
 * | `use_ssl` | `true` to use a TLS channel (system roots, or the CA of the builder's `.tls()` / `ORCHARD_SPARK_CA`) |
 * | `user_id` | user id sent in every request's `UserContext` |
 * | `session_id` | a UUID to reuse a server session (default: a fresh random UUID) |
 * | `user_agent` | client type reported to the server (default `orchard`) |
 * | anything else | forwarded as gRPC metadata (header) on every call |
 *
 * PySpark turns TLS on implicitly when `token` is given. Spark's own Connect server has no TLS
 * endpoint (TLS is normally added by a proxy), so orchard keeps the channel plaintext unless
 * `use_ssl=true` (or the session builder's `.tls({...})`), and accepts a token over plaintext
 * only when the host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`); anywhere else a
 * token requires TLS. A custom CA and a client certificate are not URL parameters (PySpark and
 * spark-connect-go define none): see `TlsOptions`.
 */
export interface ConnectionUrl {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly useSsl: boolean;
  readonly userId: string | undefined;
  readonly sessionId: string | undefined;
  readonly userAgent: string | undefined;
  /** Extra parameters, forwarded as gRPC metadata. */
  readonly headers: Readonly<Record<string, string>>;
}

function fail(field: string, expected: string, got: string): never {
  throw new ConfigError({
    field,
    expected,
    message: `invalid Spark Connect URL ${field}: expected ${expected}, got ${JSON.stringify(got)}`,
  });
}

/** True for `localhost`, `127.x.x.x` and `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Parses a `sc://` URL. Errors are `ConfigError`s whose `field` names the offending part
 * (`remote`, `remote.port`, `remote.token`, `remote.use_ssl`, `remote.session_id`, ...) and
 * whose message never contains the token. `tls: true` says TLS is on by other means than the
 * URL (the builder's `.tls()`): then `useSsl` is true and a token may go to any host.
 */
export function parseConnectionUrl(url: string, { tls = false }: { tls?: boolean } = {}): ConnectionUrl {
  const safe = redactUrl(url);
  if (!url.startsWith("sc://")) fail("remote", "a URL of the form sc://host:port/;param=value", safe);
  const rest = url.slice("sc://".length);
  const semi = rest.indexOf(";");
  let authority = semi < 0 ? rest : rest.slice(0, semi);
  const params = semi < 0 ? "" : rest.slice(semi + 1);
  if (authority.endsWith("/")) authority = authority.slice(0, -1);
  if (authority.includes("/") || authority.includes("?") || authority.includes("#")) {
    fail("remote", "no path in the URL other than '/' before the ;parameters", safe);
  }
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) fail("remote.host", "a bracketed IPv6 address like [::1]", safe);
    host = authority.slice(1, close);
    const after = authority.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) fail("remote.host", "[ipv6]:port", safe);
    portText = after === "" ? undefined : after.slice(1);
  } else {
    const colon = authority.lastIndexOf(":");
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  if (host === "" || /[\s@]/.test(host)) fail("remote.host", "a host name or IP address", host);
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      fail("remote.port", "an integer between 1 and 65535", portText);
    }
    port = Number(portText);
  }

  const values = new Map<string, string>();
  for (const part of params.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0)
      fail("remote", "parameters of the form ;key=value", part.startsWith("token") ? "token=<redacted>" : part);
    const key = part.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      fail(`remote.${key}`, "a percent-encoded value", key === "token" ? "<redacted>" : part.slice(eq + 1));
    }
    if (values.has(key)) fail(`remote.${key}`, "each parameter at most once", key === "token" ? "<redacted>" : value);
    values.set(key, value);
  }

  const token = values.get("token");
  if (token !== undefined && token === "") fail("remote.token", "a non-empty token", "");
  const sslText = values.get("use_ssl");
  let useSsl = tls;
  if (sslText !== undefined) {
    if (sslText !== "true" && sslText !== "false") fail("remote.use_ssl", "true or false", sslText);
    if (sslText === "false" && tls) fail("remote.use_ssl", "no use_ssl=false when TLS options are given", sslText);
    useSsl = sslText === "true" || tls;
  }
  const sessionId = values.get("session_id");
  if (sessionId !== undefined && !UUID_RE.test(sessionId)) fail("remote.session_id", "a UUID", sessionId);
  const userId = values.get("user_id");
  if (userId !== undefined && userId === "") fail("remote.user_id", "a non-empty user id", userId);
  const userAgent = values.get("user_agent");
  if (userAgent !== undefined && (userAgent === "" || userAgent.length > 2048)) {
    fail("remote.user_agent", "a non-empty string of at most 2048 characters", userAgent.slice(0, 40));
  }
  if (token !== undefined && !useSsl && !isLoopbackHost(host)) {
    throw new ConfigError({
      field: "remote.token",
      expected: "use_ssl=true when sending a token to a non-loopback host",
      message: `invalid Spark Connect URL remote.token: a token is sent to ${host} only over TLS; add ;use_ssl=true (plaintext tokens are allowed only to localhost/127.0.0.1/::1)`,
    });
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of values) {
    if (KNOWN.has(k)) continue;
    if (!/^[a-z0-9_.-]+$/.test(k)) fail(`remote.${k}`, "a header name of lower-case letters, digits, '_', '-', '.'", k);
    headers[k] = v;
  }
  return { host, port, token, useSsl, userId, sessionId, userAgent, headers };
}

/** Renders a URL with its token replaced by `<redacted>`; safe to log and to put in errors. */
export function redactUrl(url: string): string {
  return url.replace(/([;?&]token=)[^;&]*/gi, "$1<redacted>");
}

/** Renders a parsed URL back to its canonical text, token redacted. */
export function renderConnectionUrl(u: ConnectionUrl): string {
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  const params: string[] = [];
  if (u.token !== undefined) params.push("token=<redacted>");
  if (u.useSsl) params.push("use_ssl=true");
  if (u.userId !== undefined) params.push(`user_id=${u.userId}`);
  if (u.sessionId !== undefined) params.push(`session_id=${u.sessionId}`);
  if (u.userAgent !== undefined) params.push(`user_agent=${u.userAgent}`);
  for (const [k, v] of Object.entries(u.headers)) params.push(`${k}=${v}`);
  return `sc://${host}:${u.port}${params.length > 0 ? `/;${params.join(";")}` : ""}`;
}
