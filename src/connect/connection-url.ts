import { ConfigError } from "../errors.ts";

/** Default Spark Connect port (the server's `spark.connect.grpc.binding.port` default). */
const DEFAULT_PORT = 15002;

/** The default URL when neither the caller nor `SPARK_REMOTE` names one. */
export const DEFAULT_REMOTE = "sc://localhost:15002";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KNOWN = new Set(["token", "use_ssl", "user_id", "session_id", "user_agent"]);
/**
 * Parameters whose values are shown in messages and logs. Every other value (the token and any
 * extra parameter, which becomes a gRPC header and may well be a credential such as an API key)
 * is rendered as `<redacted>`.
 */
const SHOWN = new Set(["use_ssl", "user_id", "session_id", "user_agent"]);

/** Where a bearer token that is not in the URL came from, for messages (`SPARK_CONNECT_TOKEN`, `--token-file`, ...). */
export interface FallbackToken {
  readonly token: string;
  /** Names the source in messages (never the value). */
  readonly source: string;
}

/**
 * Environment variables a client takes its bearer token from when the URL has none, first set
 * wins: orchard's `SPARK_CONNECT_TOKEN`, then Spark's own `SPARK_CONNECT_AUTHENTICATE_TOKEN` (the
 * variable Spark's Scala, Swift and Go clients read, and the one the server reads its token from).
 */
export const TOKEN_ENV = ["SPARK_CONNECT_TOKEN", "SPARK_CONNECT_AUTHENTICATE_TOKEN"] as const;

/** The first non-empty {@link TOKEN_ENV} variable of `env`, naming it as the source. */
export function tokenFromEnv(env: Readonly<Record<string, string | undefined>>): FallbackToken | undefined {
  for (const name of TOKEN_ENV) {
    const token = env[name];
    if (token) return { token, source: name };
  }
  return undefined;
}

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
export function parseConnectionUrl(
  url: string,
  { tls = false, fallbackToken }: { tls?: boolean; fallbackToken?: FallbackToken } = {},
): ConnectionUrl {
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
  if (host === "" || /[\s@]/.test(host)) {
    // `user:password@host` is not a Spark Connect URL; its credentials are not echoed either.
    fail("remote.host", "a host name or IP address (no user:password@)", host.includes("@") ? "<redacted>@..." : host);
  }
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
    if (eq <= 0) fail("remote", "parameters of the form ;key=value", SHOWN.has(part) ? part : "<redacted>");
    const key = part.slice(0, eq);
    const shown = (v: string) => (SHOWN.has(key) ? v : "<redacted>");
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      fail(`remote.${key}`, "a percent-encoded value", shown(part.slice(eq + 1)));
    }
    if (values.has(key)) fail(`remote.${key}`, "each parameter at most once", shown(value));
    values.set(key, value);
  }

  const urlToken = values.get("token");
  if (urlToken !== undefined && urlToken === "") fail("remote.token", "a non-empty token", "");
  // The URL's token wins; a token from elsewhere (the environment, a file) applies only without one.
  const token = urlToken ?? (fallbackToken?.token || undefined);
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
    const field = urlToken !== undefined ? "remote.token" : (fallbackToken?.source ?? "remote.token");
    throw new ConfigError({
      field,
      expected: "use_ssl=true when sending a token to a non-loopback host",
      message: `invalid Spark Connect URL ${field}: a token is sent to ${host} only over TLS; add ;use_ssl=true (plaintext tokens are allowed only to localhost/127.0.0.1/::1)`,
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

/**
 * Renders a URL with the value of its token, and of every parameter other than `use_ssl`,
 * `user_id`, `session_id` and `user_agent` (extra parameters are gRPC headers, often credentials),
 * replaced by `<redacted>`; safe to log and to put in errors. A parameter without `=` is
 * redacted whole.
 */
export function redactUrl(url: string): string {
  // Query-style tokens (`?token=`, `&token=`) of URLs that are not sc:// are redacted too.
  const text = url.replace(/([?&]token=)[^;&]*/gi, "$1<redacted>");
  const semi = text.indexOf(";");
  if (semi < 0) return text;
  const params = text
    .slice(semi + 1)
    .split(";")
    .map((part) => {
      if (part === "") return part;
      const eq = part.indexOf("=");
      if (eq < 0) return SHOWN.has(part) ? part : "<redacted>";
      const key = part.slice(0, eq);
      return SHOWN.has(key.toLowerCase()) ? part : `${key}=<redacted>`;
    });
  return `${text.slice(0, semi)};${params.join(";")}`;
}

/** Renders a parsed URL back to its canonical text, the token and extra parameters' values redacted. */
export function renderConnectionUrl(u: ConnectionUrl): string {
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  const params: string[] = [];
  if (u.token !== undefined) params.push("token=<redacted>");
  if (u.useSsl) params.push("use_ssl=true");
  if (u.userId !== undefined) params.push(`user_id=${u.userId}`);
  if (u.sessionId !== undefined) params.push(`session_id=${u.sessionId}`);
  if (u.userAgent !== undefined) params.push(`user_agent=${u.userAgent}`);
  for (const k of Object.keys(u.headers)) params.push(`${k}=<redacted>`);
  return `sc://${host}:${u.port}${params.length > 0 ? `/;${params.join(";")}` : ""}`;
}
