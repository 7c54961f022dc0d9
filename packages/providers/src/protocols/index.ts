/**
 * The built-in protocols. Each lives in its own folder (./<protocol>/): request, response, stream
 * encoder and decoder, errors, and an index.ts assembling its codec and its descriptor (inbound paths,
 * auth headers, passthrough path, which stream events matter to metering).
 */
import type { Protocol, ProtocolName } from "@bitrouter/core";
import type { Codec } from "../codec.js";
import type { ProtocolDescriptor } from "../descriptor.js";
import { anthropicCodec, anthropicProtocol } from "./anthropic/index.js";
import { googleCodec, googleProtocol } from "./google/index.js";
import { openaiChatCodec, openaiChatProtocol } from "./openai-chat/index.js";
import { openaiResponsesCodec, openaiResponsesProtocol } from "./openai-responses/index.js";

export { anthropicCodec, anthropicProtocol, googleCodec, googleProtocol, openaiChatCodec, openaiChatProtocol, openaiResponsesCodec, openaiResponsesProtocol };

/** The descriptor of each protocol. */
export const PROTOCOL_DESCRIPTORS: Readonly<Record<Protocol, ProtocolDescriptor>> = Object.freeze({
  "openai-chat": openaiChatProtocol,
  "openai-responses": openaiResponsesProtocol,
  anthropic: anthropicProtocol,
  google: googleProtocol,
});

/** A protocol's descriptor; undefined for a protocol a provider package registered (it only has a codec). */
export function descriptorOf(protocol: ProtocolName): ProtocolDescriptor | undefined {
  return Object.hasOwn(PROTOCOL_DESCRIPTORS, protocol) ? PROTOCOL_DESCRIPTORS[protocol as Protocol] : undefined;
}

/** The built-in codec of each protocol. */
export const CODECS: Readonly<Record<Protocol, Codec>> = Object.freeze({
  "openai-chat": openaiChatCodec,
  "openai-responses": openaiResponsesCodec,
  anthropic: anthropicCodec,
  google: googleCodec,
});

/** The wire protocol a provider's `api_protocol` (bitrouter.yaml) speaks for model requests. */
export function protocolForApiProtocol(apiProtocol: string | undefined): Protocol | undefined {
  switch (apiProtocol) {
    case "openai":
      return "openai-chat";
    case "anthropic":
      return "anthropic";
    case "google":
      return "google";
    default:
      return undefined; // mcp and rest providers serve tools, not models
  }
}
