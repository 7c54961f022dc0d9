import type { Protocol } from "@bitrouter/core";
import type { Codec } from "../codec.js";
import { anthropicCodec } from "./anthropic/index.js";
import { googleCodec } from "./google/index.js";
import { openaiChatCodec } from "./openai-chat/index.js";
import { openaiResponsesCodec } from "./openai-responses/index.js";

export { anthropicCodec, googleCodec, openaiChatCodec, openaiResponsesCodec };

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
