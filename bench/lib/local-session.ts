/**
 * A session on a Spark Connect server a bench started: such a server requires the random token it
 * got (kept in a 0600 file), which this process's client reads and sends; it is never printed.
 */
import type { LocalSpark } from "../../src/cli/local/spark-server.ts";
import { readTokenFile } from "../../src/cli/local/token-file.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";

export function localSession(server: Pick<LocalSpark, "remote" | "tokenFile">): SparkSession {
  const builder = SparkSession.builder.remote(server.remote);
  return (
    server.tokenFile ? builder.token(readTokenFile(server.tokenFile, "the bench server's token file")) : builder
  ).getOrCreate();
}
