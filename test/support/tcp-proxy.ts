/**
 * A loopback TCP proxy for fault tests: it forwards 127.0.0.1:<port> to an upstream port and can
 * be told to stall (stop forwarding both ways while every socket stays open: a silent, half-open
 * network), to reset every connection (TCP RST both ways), or to refuse new connections. It
 * counts the bytes it forwarded from the upstream, so a test can act in the middle of a transfer.
 */
import { createServer, type Server, Socket } from "node:net";

/** A running proxy (see the module comment). */
export interface TcpProxy {
  readonly port: number;
  /** Bytes forwarded from the upstream to the clients so far. */
  readonly downstreamBytes: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Stops forwarding in both directions; sockets stay open and data is held back. */
  stall(): void;
  /** Forwards again (what was held back goes first). */
  resume(): void;
  /** Resets every open connection (RST to the client and to the upstream). */
  reset(): void;
  /** Points new connections to another upstream port. */
  retarget(upstreamPort: number): void;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

/** Starts a proxy on a free loopback port to `127.0.0.1:upstreamPort`. */
export async function startTcpProxy(upstreamPort: number): Promise<TcpProxy> {
  let target = upstreamPort;
  let stalled = false;
  let downstreamBytes = 0;
  let connections = 0;
  const pairs = new Set<Pair>();

  const server: Server = createServer((client) => {
    connections++;
    const upstream = new Socket();
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    upstream.on("data", (b: Buffer) => {
      downstreamBytes += b.length;
      client.write(b);
    });
    client.on("data", (b: Buffer) => upstream.write(b));
    if (stalled) {
      client.pause();
      upstream.pause();
    }
    upstream.connect(target, "127.0.0.1");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    port,
    get downstreamBytes() {
      return downstreamBytes;
    },
    get connections() {
      return connections;
    },
    stall() {
      stalled = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    resume() {
      stalled = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    reset() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream.resetAndDestroy();
      }
    },
    retarget(upstream) {
      target = upstream;
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
