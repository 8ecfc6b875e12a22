/**
 * The environment a sidecar orchard starts gets: only what it needs to run and, on first use, to
 * install a catalog model (PATH and HOME for the set-up script, the locale, temp folder, proxy and
 * CA settings for the package registries, orchard's cache and run folders, Node's CA and memory
 * settings). Nothing else passes: no AWS keys, no Spark tokens, no S3 secrets, whatever the
 * caller's environment holds. (The model set-up downloads from PyPI with pip: PIP_* settings pass.)
 */

/** Names passed as they are. */
const NAMES = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "ORCHARD_CACHE",
  "ORCHARD_RUN_DIR",
  "XDG_CACHE_HOME",
  "MALLOC_ARENA_MAX",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "REQUESTS_CA_BUNDLE",
  "PIP_INDEX_URL",
  "PIP_EXTRA_INDEX_URL",
  "PIP_TRUSTED_HOST",
  "PIP_CERT",
  "PIP_CONFIG_FILE",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "OMP_NUM_THREADS",
]);

/** Prefixes passed: the locale's categories. */
const PREFIXES = ["LC_"];

/** The variables of `env` a sidecar may see (see the module comment). */
export function sidecarEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (NAMES.has(name) || PREFIXES.some((p) => name.startsWith(p))) out[name] = value;
  }
  return out;
}
