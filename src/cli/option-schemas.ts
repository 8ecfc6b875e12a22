import { z } from "zod";

/** A TCP port given on the command line. */
export const portOption = z.coerce
  .number({ error: "an integer port from 1 to 65535" })
  .int({ error: "an integer port from 1 to 65535" })
  .min(1, { error: "an integer port from 1 to 65535" })
  .max(65535, { error: "an integer port from 1 to 65535" });

/** An address to bind (host name or IP). */
export const hostOption = z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, {
  error: "a host name or IP address (127.0.0.1 by default; 0.0.0.0 only if you mean it)",
});

/** An http(s) URL such as an S3 endpoint. */
export const httpUrlOption = z
  .string()
  .refine((s) => /^https?:\/\/[^/\s]+/.test(s) && URL.canParse(s), { error: "an http:// or https:// URL" });

/** A positive number of seconds. */
export const secondsOption = z.coerce
  .number({ error: "a number of seconds > 0" })
  .positive({ error: "a number of seconds > 0" });

/**
 * Repeated `--conf key=value` flags (Spark settings) into a record; later flags win.
 * Keys must be Spark settings (`spark.*`), as spark-submit would otherwise ignore them.
 */
export const sparkConfOption = z
  .array(
    z.string().regex(/^spark\.[^=\s]+=.*$/s, {
      error: "key=value with a Spark setting as key (e.g. --conf spark.sql.shuffle.partitions=8)",
    }),
  )
  .default([])
  .transform((pairs) =>
    Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)])),
  );

/**
 * Spark master URLs orchard starts a driver on: `local`, `local[N]`, `local[*]`, `local[N,F]`,
 * `local-cluster[workers,coresPerWorker,memoryMiBPerWorker]` (executors in separate JVMs), `yarn`,
 * or a cluster URL (`spark://host:7077`, `k8s://https://...`).
 */
export const masterOption = z
  .string()
  .regex(/^(local(\[(\d+|\*)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|(spark|yarn|k8s|mesos):\/\/\S+|yarn)$/, {
    error: "a Spark master such as local[2], local[*], local-cluster[2,1,1024], spark://host:7077 or yarn",
  });

/** A whole number >= 1; `what` is the expected form named in the error (e.g. "a number of images >= 1"). */
export const positiveIntOption = (what: string) =>
  z.coerce.number({ error: what }).int({ error: what }).min(1, { error: what });

/**
 * `host:port` of a sidecar (`--sidecar`, `ORCHARD_SIDECAR`): a host name, an IPv4 address or a
 * bracketed IPv6 one, and a port 1-65535. Nothing else: the value reaches the bridge command that
 * Spark runs under `bash -c`, so a shell metacharacter is refused here (exit 2), not only quoted.
 */
export const sidecarAddressOption = z
  .string()
  .regex(/^([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, {
    error: "host:port (--sidecar or ORCHARD_SIDECAR), e.g. 127.0.0.1:8815: a host name or IP and a port 1-65535",
  })
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(":") + 1));
    return port >= 1 && port <= 65535;
  }, "host:port (--sidecar or ORCHARD_SIDECAR), e.g. 127.0.0.1:8815: a host name or IP and a port 1-65535");

/** Characters a shell gives a meaning to (besides spaces): refused in any value that reaches a command line. */
export const SHELL_METACHARACTERS = /[`$;&|<>(){}[\]*?!"'\\#~\n\r\t]/;

/** A file path that reaches a command line: spaces are fine (it is quoted), shell metacharacters are not. */
export const commandPathOption = (what: string) =>
  z
    .string()
    .min(1, { error: what })
    .refine((s) => !SHELL_METACHARACTERS.test(s), { error: `${what}, without shell metacharacters` });

/** A bridge command (`--bridge`): words of plain path characters separated by single spaces. */
export const bridgeCommandOption = z.string().regex(/^[\w./:@=+,-]+( [\w./:@=+,-]+)*$/, {
  error:
    "the bridge command the executors run: words of letters, digits and . / : @ = + , - separated by spaces, without shell metacharacters (e.g. orchard-bridge)",
});

/** `--device`: where a sidecar runs its model (ONNX Runtime's CPU or CUDA execution provider). */
export const deviceOption = z.enum(["cpu", "cuda", "auto"], { error: "cpu, cuda or auto" });
