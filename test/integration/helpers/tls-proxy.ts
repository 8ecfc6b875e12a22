import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { isAlive, stopProcessGroup } from "@orchard/udf-server/process";
import { canConnect } from "../../../src/cli/local/ports.ts";

const run = promisify(execFile);

/** A certificate and its key, as PEM files. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run("openssl", args, { cwd, timeout: 30_000 });
}

/** A self-signed CA (P-256, valid one day) in `dir/<name>.crt` / `.key`, made with the openssl CLI. */
export async function makeCa(dir: string, name: string): Promise<CertFiles> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=orchard test ${name}`])
      .concat(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
    dir,
  );
  return { cert, key };
}

/**
 * A leaf certificate signed by `ca`: for a server (`serverAuth`, names `localhost` and
 * `127.0.0.1`) or a client (`clientAuth`).
 */
export async function makeLeaf(dir: string, name: string, ca: CertFiles, use: "server" | "client"): Promise<CertFiles> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    use === "server"
      ? "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
      : "extendedKeyUsage=clientAuth\n",
  );
  await openssl(
    ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      `/CN=${use === "server" ? "localhost" : `orchard test ${name}`}`,
    ]),
    dir,
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-out",
      cert,
      "-days",
      "1",
    ].concat(["-extfile", ext]),
    dir,
  );
  return { cert, key };
}

/** A running nginx started by {@link startTlsProxy}. */
export interface TlsProxy {
  readonly pid: number;
  /** TLS port: any client that trusts the server certificate's CA. */
  readonly tlsPort: number;
  /** Mutual-TLS port: the client must also present a certificate signed by `clientCa`. */
  readonly mtlsPort: number;
  readonly errorLog: string;
  /** Stops exactly this nginx (its process group) and waits until it is gone. */
  stop(): Promise<void>;
}

/** Debian's nginx binary (installed by `scripts/setup.sh nginx`). */
export function nginxBinary(): string {
  return existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
}

/**
 * Starts Debian's nginx in the foreground (its own process group) as a TLS-terminating gRPC
 * proxy: `tlsPort` and `mtlsPort` on 127.0.0.1, both `grpc_pass` to the plaintext Spark Connect
 * server on `upstreamPort`; nginx checks no token (Spark does). Everything nginx writes stays in
 * `dir`.
 */
export async function startTlsProxy(options: {
  dir: string;
  upstreamPort: number;
  tlsPort: number;
  mtlsPort: number;
  server: CertFiles;
  clientCa: string;
}): Promise<TlsProxy> {
  const { dir } = options;
  const temp = join(dir, "temp");
  mkdirSync(temp, { recursive: true });
  const errorLog = join(dir, "error.log");
  const location = [
    "    location / {",
    `      grpc_pass grpc://127.0.0.1:${options.upstreamPort};`,
    "      grpc_read_timeout 600s;",
    "      grpc_send_timeout 600s;",
    "    }",
  ];
  const server = (port: number, mtls: boolean) => [
    "  server {",
    `    listen 127.0.0.1:${port} ssl http2;`,
    `    ssl_certificate ${options.server.cert};`,
    `    ssl_certificate_key ${options.server.key};`,
    ...(mtls ? [`    ssl_client_certificate ${options.clientCa};`, "    ssl_verify_client on;"] : []),
    ...location,
    "  }",
  ];
  const conf = [
    "worker_processes 1;",
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${errorLog} info;`,
    "events { worker_connections 64; }",
    "http {",
    "  access_log off;",
    "  client_max_body_size 0;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${join(temp, t)};`),
    ...server(options.tlsPort, false),
    ...server(options.mtlsPort, true),
    "}",
    "",
  ].join("\n");
  const confFile = join(dir, "nginx.conf");
  writeFileSync(confFile, conf);
  const child = spawn(nginxBinary(), ["-p", dir, "-c", confFile, "-e", errorLog, "-g", "daemon off;"], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`nginx did not start (${nginxBinary()}); run scripts/setup.sh nginx`);
  child.unref();
  const stop = async () => {
    await stopProcessGroup(pid);
  };
  const deadline = Date.now() + 15_000;
  while (!(await canConnect("127.0.0.1", options.tlsPort)) || !(await canConnect("127.0.0.1", options.mtlsPort))) {
    if (!isAlive(pid) || Date.now() > deadline) {
      await stop();
      const log = existsSync(errorLog) ? readFileSync(errorLog, "utf8").slice(-2000) : "";
      throw new Error(`nginx did not come up: ${stderr}${log}`);
    }
    await sleep(100);
  }
  return { pid, tlsPort: options.tlsPort, mtlsPort: options.mtlsPort, errorLog, stop };
}
