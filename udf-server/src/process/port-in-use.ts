/**
 * Whether something accepts TCP connections on a port: a process that holds the port but does not
 * answer (stopped, hung) keeps any other server from binding it.
 */
import { connect } from "node:net";

/** True when a TCP connection to `host:port` is accepted within `timeoutMs`. */
export function portInUse(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (inUse: boolean) => {
      socket.destroy();
      resolve(inUse);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
