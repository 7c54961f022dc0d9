/**
 * OpenAI Chat Completions (`POST {base}/chat/completions`) <-> canonical.
 *
 * Lossy spots are listed in docs/protocol-mapping.md ("OpenAI codecs"). The request validation helpers
 * and the error mapping are shared with the Responses protocol (../openai-responses).
 */
import type { Codec } from "../../codec.js";
import { decodeOpenAIError, encodeOpenAIError } from "./errors.js";
import { decodeChatRequest, encodeChatRequest } from "./request.js";
import { chatResponseUsage, decodeChatResponse, encodeChatResponse } from "./response.js";
import { ChatStreamDecoder } from "./stream-decoder.js";
import { ChatStreamEncoder } from "./stream-encoder.js";

// ── the codec ─────────────────────────────────────────────────────────────────────────────────

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
