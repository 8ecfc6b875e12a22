/**
 * The gRPC shape of the Flight methods orchard serves and calls: method paths of
 * `arrow.flight.protocol.FlightService`, streaming kinds, and (de)serializers for
 * @grpc/grpc-js. Methods not listed here are answered UNIMPLEMENTED by grpc-js.
 */
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import {
  type Action,
  type ActionType,
  decodeAction,
  decodeActionType,
  decodeFlightData,
  decodeFlightDataOrMark,
  decodeResult,
  encodeAction,
  encodeActionType,
  encodeEmpty,
  encodeFlightData,
  encodeResult,
  type FlightData,
  type Result,
} from "./messages.ts";

/** The fully-qualified service name of Arrow Flight. */
const FLIGHT_SERVICE = "arrow.flight.protocol.FlightService";

/** Method paths, as gRPC puts them on the wire. */
const FlightMethod = {
  DoExchange: `/${FLIGHT_SERVICE}/DoExchange`,
  DoAction: `/${FLIGHT_SERVICE}/DoAction`,
  ListActions: `/${FLIGHT_SERVICE}/ListActions`,
} as const;

/** Wraps bytes as a Buffer without copying (grpc-js wants Buffers). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function method<Req, Res>(
  path: string,
  requestStream: boolean,
  responseStream: boolean,
  encodeReq: (m: Req) => Uint8Array,
  decodeReq: (b: Uint8Array) => Req,
  encodeRes: (m: Res) => Uint8Array,
  decodeRes: (b: Uint8Array) => Res,
): MethodDefinition<Req, Res> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: (m: Req) => asBuffer(encodeReq(m)),
    requestDeserialize: (b: Buffer) => decodeReq(b),
    responseSerialize: (m: Res) => asBuffer(encodeRes(m)),
    responseDeserialize: (b: Buffer) => decodeRes(b),
  };
}

/**
 * `DoExchange(stream FlightData) returns (stream FlightData)`. The server's side of the request
 * never throws on bytes that are not a `FlightData`: it marks them (`undecodable`).
 */
export const doExchangeMethod = method<FlightData, FlightData>(
  FlightMethod.DoExchange,
  true,
  true,
  encodeFlightData,
  decodeFlightDataOrMark,
  encodeFlightData,
  decodeFlightData,
);

/** `DoAction(Action) returns (stream Result)`. */
export const doActionMethod = method<Action, Result>(
  FlightMethod.DoAction,
  false,
  true,
  encodeAction,
  decodeAction,
  encodeResult,
  decodeResult,
);

/** `ListActions(Empty) returns (stream ActionType)`. */
export const listActionsMethod = method<Record<string, never>, ActionType>(
  FlightMethod.ListActions,
  false,
  true,
  () => encodeEmpty(),
  () => ({}),
  encodeActionType,
  decodeActionType,
);

/** The subset of `FlightService` the sidecar implements, for `grpc.Server.addService`. */
export const flightServiceDefinition = {
  DoExchange: doExchangeMethod,
  DoAction: doActionMethod,
  ListActions: listActionsMethod,
} satisfies ServiceDefinition;
