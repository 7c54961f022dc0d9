/**
 * OpenAI Chat Completions (`POST {base}/chat/completions`) <-> canonical.
 *
 * Lossy spots are listed in docs/protocol-mapping.md ("OpenAI codecs"). The request validation helpers
 * and the error mapping are shared with the Responses protocol (../openai-responses).
 */
import type { Codec } from "../../codec.js";
import type { ProtocolDescriptor } from "../../descriptor.js";
import { decodeOpenAIError, encodeChatStreamError, encodeOpenAIError } from "./errors.js";
import { decodeChatRequest, encodeChatRequest } from "./request.js";
import { chatResponseUsage, decodeChatResponse, encodeChatResponse } from "./response.js";
import { ChatStreamDecoder, carriesOutcome, chatStreamUsage, mayCarryOutcome } from "./stream-decoder.js";
import { ChatStreamEncoder } from "./stream-encoder.js";

export const openaiChatCodec: Codec = {
  protocol: "openai-chat",
  decodeRequest: decodeChatRequest,
  encodeResponse: (response) => encodeChatResponse(response),
  createStreamEncoder: (request) => new ChatStreamEncoder(request),
  encodeError: encodeOpenAIError,
  encodeRequest: encodeChatRequest,
  decodeResponse: decodeChatResponse,
  responseUsage: { field: "usage", decode: chatResponseUsage },
  createStreamDecoder: () => new ChatStreamDecoder(),
  decodeError: decodeOpenAIError,
};

/** OpenAI bearer auth, for callers and upstreams alike. */
export function bearerAuth(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}` };
}

export const openaiChatProtocol: ProtocolDescriptor = {
  protocol: "openai-chat",
  codec: openaiChatCodec,
  // The OpenAI SDKs' base URL is `<host>/v1`; some clients are configured with `<host>` alone.
  matchPath: (pathname) => (pathname === "/v1/chat/completions" || pathname === "/chat/completions" ? { kind: "inference" } : undefined),
  featureHeaders: ["openai-beta"],
  modelInPath: false,
  limitFields: { outputTokens: [["max_tokens"], ["max_completion_tokens"]], reasoning: ["reasoning_effort"] },
  streamUsage: chatStreamUsage,
  authHeaders: bearerAuth,
  requestHeaders: {},
  answerFields: { choices: "[" },
  passthroughPath: () => "/chat/completions",
  carriesOutcome,
  mayCarryOutcome,
  encodeStreamError: encodeChatStreamError,
};
