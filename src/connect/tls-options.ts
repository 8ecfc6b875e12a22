import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.ts";

/**
 * TLS material for a Spark Connect channel (`builder.tls({...})`). Each value is PEM text (it
 * contains `-----BEGIN`), PEM bytes, or the path of a PEM file. Without `ca` the system roots
 * verify the server. PySpark and spark-connect-go define no URL parameters for these (PySpark
 * users subclass its `ChannelBuilder`), so orchard keeps them out of the `sc://` URL, which stays
 * portable between clients.
 */
export interface TlsOptions {
  /** CA certificate(s) that sign the server's certificate, used instead of the system roots. */
  readonly ca?: string | Uint8Array;
  /** Client certificate (chain) for mutual TLS; needs `key`. */
  readonly cert?: string | Uint8Array;
  /** The client certificate's private key (unencrypted PEM); needs `cert`. */
  readonly key?: string | Uint8Array;
}

/**
 * Environment variables the session builder reads for TLS material when the URL says
 * `use_ssl=true` (explicit `builder.tls()` values win): a path or PEM text each.
 */
export const TLS_ENV = {
  ca: "ORCHARD_SPARK_CA",
  cert: "ORCHARD_SPARK_CERT",
  key: "ORCHARD_SPARK_KEY",
} as const;

/** TLS material read and checked, ready for the channel. */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

type Part = keyof TlsOptions;

function describe(value: string | Uint8Array): string {
  return typeof value === "string" && !value.includes("-----BEGIN") ? value : "PEM text";
}

/** What messages call each part: `tls.ca` etc., or the environment variable it came from. */
type Labels = Partial<Record<Part, string>>;

function load(part: Part, value: string | Uint8Array, label: string): Buffer {
  if (typeof value !== "string") return Buffer.from(value);
  if (value.includes("-----BEGIN")) return Buffer.from(value, "utf8");
  try {
    return readFileSync(value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError({
      field: `tls.${part}`,
      expected: "PEM text or the path of a readable PEM file",
      message: `invalid ${label}: cannot read ${value} (${code}); give PEM text or the path of a readable PEM file`,
    });
  }
}

function invalid(part: Part, label: string, source: string, what: string): ConfigError {
  // The message names where the value came from, never its content (a key stays out of logs).
  return new ConfigError({
    field: `tls.${part}`,
    expected: what,
    message: `invalid ${label}: ${source} is not ${what}`,
  });
}

/**
 * Reads and checks TLS material: the CA and the client certificate must parse as X.509 PEM
 * certificates, the key as a private key that matches the certificate, and `cert` and `key`
 * come together. Errors are `ConfigError`s whose `field` is `tls.ca`, `tls.cert` or `tls.key`
 * and whose message names the setting (`labels`: e.g. the environment variable it came from),
 * the file (or "PEM text"), never the content.
 */
export function resolveTls(options: TlsOptions, labels: Labels = {}): TlsMaterial {
  const label = (part: Part) => labels[part] ?? `tls.${part}`;
  if ((options.cert === undefined) !== (options.key === undefined)) {
    const missing = options.cert === undefined ? "cert" : "key";
    throw new ConfigError({
      field: `tls.${missing}`,
      expected: "a client certificate and its key together",
      message: `invalid ${label(missing)}: mutual TLS needs both a client certificate (${label("cert")}) and its key (${label("key")})`,
    });
  }
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  let certificate: X509Certificate | undefined;
  for (const part of ["ca", "cert"] as const) {
    const value = options[part];
    if (value === undefined) continue;
    const pem = load(part, value, label(part));
    try {
      const parsed = new X509Certificate(pem);
      if (part === "cert") certificate = parsed;
    } catch {
      throw invalid(part, label(part), describe(value), "a PEM certificate");
    }
    out[part] = pem;
  }
  if (options.key !== undefined) {
    const pem = load("key", options.key, label("key"));
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw invalid("key", label("key"), describe(options.key), "an unencrypted PEM private key");
    }
    if (certificate !== undefined && !certificate.checkPrivateKey(key)) {
      throw invalid("key", label("key"), describe(options.key), `the private key of ${label("cert")}`);
    }
    out.key = pem;
  }
  return out;
}

/** TLS options from the environment ({@link TLS_ENV}); empty values count as unset. */
export function tlsFromEnv(env: Readonly<Record<string, string | undefined>>): TlsOptions {
  const out: { ca?: string; cert?: string; key?: string } = {};
  for (const part of ["ca", "cert", "key"] as const) {
    const value = env[TLS_ENV[part]];
    if (value) out[part] = value;
  }
  return out;
}
