// Codec lookup for the router: the built-in codecs and the protocols provider packages registered.
import type { Protocol, ProtocolName } from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import type { Codec, UpstreamCodec } from "./codec.js";
import { CODECS, protocolForApiProtocol } from "./protocols/index.js";

/** Codecs by protocol: the built-in four (both roles) and registered ones (outbound). */
export type CodecTable = Readonly<Record<Protocol, Codec>> & Readonly<Record<string, UpstreamCodec>>;

/** The built-in codecs with registered protocols beside them (they cannot shadow a built-in). */
export function codecTable(registered: Readonly<Record<string, UpstreamCodec>> = {}, overrides: Partial<Record<Protocol, Codec>> = {}): CodecTable {
  return Object.freeze({ ...registered, ...CODECS, ...overrides });
}

/**
 * The codec of an endpoint's protocol. Endpoints only name protocols their configuration registered,
 * so a miss is BitRouter's own fault: an internal error naming the protocol.
 */
export function upstreamCodec(table: CodecTable, protocol: ProtocolName): UpstreamCodec {
  const codec = table[protocol];
  if (codec === undefined) throw new BitrouterError({ kind: "internal", message: `no codec for protocol "${protocol}"` });
  return codec;
}

/**
 * The protocol a provider's `api_protocol` speaks for model requests: a built-in one, or a
 * registered one of the same name. Undefined for mcp and rest (tools, not models) and unknown names.
 */
export function upstreamProtocol(apiProtocol: string | undefined, registered: Readonly<Record<string, UpstreamCodec>> = {}): ProtocolName | undefined {
  const builtin = protocolForApiProtocol(apiProtocol);
  if (builtin !== undefined || apiProtocol === undefined) return builtin;
  return Object.hasOwn(registered, apiProtocol) ? apiProtocol : undefined;
}
