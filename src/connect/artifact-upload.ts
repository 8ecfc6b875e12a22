import { crc32 } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import * as pb from "#connect-proto";
import { ProtocolError } from "./errors.ts";

/** Where and as whom artifacts are uploaded: the client's channel and request header fields. */
export interface ArtifactTarget {
  /** The open channel to the server. */
  readonly channel: grpc.Client;
  /** The full method path of `SparkConnectService/AddArtifacts`. */
  readonly path: string;
  /** Headers of the call (bearer token, URL headers). */
  readonly metadata: grpc.Metadata;
  /** The session the artifacts belong to. */
  readonly sessionId: string;
  /** Who uploads them. */
  readonly userContext: pb.UserContext;
  /** The client type reported to the server. */
  readonly clientType: string;
  /** Maps a gRPC failure of the call to an orchard error. */
  convertError(e: unknown): Promise<Error>;
}

/**
 * Uploads session artifacts (e.g. the `cache/<sha256>` chunks of a big `createDataFrame`) with
 * the AddArtifacts client stream: one request per artifact, each with its CRC32. Rejects with a
 * ProtocolError when the server reports a CRC mismatch or does not acknowledge an artifact.
 * PySpark equivalent: `ArtifactManager.add_artifacts`.
 */
export function uploadArtifacts(target: ArtifactTarget, artifacts: ReadonlyMap<string, Uint8Array>): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = target.channel.makeClientStreamRequest(
      target.path,
      (m: pb.AddArtifactsRequest) => Buffer.from(toBinary(pb.AddArtifactsRequestSchema, m)),
      (b: Buffer) => fromBinary(pb.AddArtifactsResponseSchema, b),
      target.metadata,
      {},
      (err, res) => {
        if (err) {
          target.convertError(err).then(reject, reject);
          return;
        }
        const failed = (res?.artifacts ?? []).filter((a) => !a.isCrcSuccessful).map((a) => a.name);
        const missing = [...artifacts.keys()].filter((n) => !res?.artifacts.some((a) => a.name === n));
        if (failed.length > 0 || missing.length > 0) {
          reject(
            new ProtocolError({
              message: `artifact upload failed (CRC mismatch: ${failed.join(", ") || "none"}; not acknowledged: ${missing.join(", ") || "none"})`,
            }),
          );
        } else resolve();
      },
    );
    for (const [name, data] of artifacts) {
      call.write(
        create(pb.AddArtifactsRequestSchema, {
          sessionId: target.sessionId,
          userContext: target.userContext,
          clientType: target.clientType,
          payload: {
            case: "batch",
            value: create(pb.AddArtifactsRequest_BatchSchema, {
              artifacts: [
                create(pb.AddArtifactsRequest_SingleChunkArtifactSchema, {
                  name,
                  data: create(pb.AddArtifactsRequest_ArtifactChunkSchema, { data, crc: BigInt(crc32(data)) }),
                }),
              ],
            }),
          },
        }),
      );
    }
    call.end();
  });
}
