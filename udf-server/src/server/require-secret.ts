/**
 * The sidecar's authentication of its clients: every call but `DoAction` must carry
 * `authorization: Bearer <secret>` in its metadata, checked before the call's handler starts,
 * so nothing of an unauthenticated call's body is read or decoded; it ends UNAUTHENTICATED.
 * `DoAction` is checked by its handler, because `health` stays open (see flight-server.ts).
 */
import { type Metadata, ServerInterceptingCall, type ServerInterceptor, status } from "@grpc/grpc-js";
import { AUTHORIZATION_KEY, isAuthorized } from "../auth/sidecar-secret.ts";
import { doActionMethod } from "../flight/service.ts";

/** The message of a call refused for want of the secret (it names where the secret lives, never the secret). */
export const UNAUTHENTICATED_DETAILS =
  "the sidecar requires its shared secret (authorization: Bearer <secret>, from its run folder's sidecar-<port>.secret)";

/** Whether `metadata` carries `secret`. */
export function hasSecret(metadata: Metadata, secret: string): boolean {
  return isAuthorized(metadata.get(AUTHORIZATION_KEY)[0], secret);
}

/** A server interceptor that refuses every call except `DoAction` without the secret. */
export function requireSecret(secret: string): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            if (method.path === doActionMethod.path || hasSecret(metadata, secret)) pass(metadata);
            else call.sendStatus({ code: status.UNAUTHENTICATED, details: UNAUTHENTICATED_DETAILS });
          },
        });
      },
    });
}
