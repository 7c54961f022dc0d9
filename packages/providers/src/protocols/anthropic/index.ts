/**
 * Anthropic Messages API (`POST /v1/messages`, `anthropic-version: 2023-06-01`) <-> canonical.
 * What Anthropic cannot express, and what other protocols cannot express of it, is listed in
 * docs/protocol-mapping.md.
 */
import type { Codec } from "../../codec.js";
import type { ProtocolDescriptor } from "../../descriptor.js";
import { decodeError, encodeError, encodeStreamError } from "./errors.js";
import { ANTHROPIC_VERSION, decodeRequest, encodeRequest } from "./request.js";
import { anthropicResponseUsage, decodeResponse, encodeResponse } from "./response.js";
import { AnthropicStreamDecoder, carriesOutcome, mayCarryOutcome } from "./stream-decoder.js";
import { AnthropicStreamEncoder } from "./stream-encoder.js";

export { ANTHROPIC_FALLBACK_MAX_TOKENS } from "./request.js";

export const anthropicCodec: Codec = {
  protocol: "anthropic",
  decodeRequest: (body) => decodeRequest(body),
  encodeResponse: (response) => encodeResponse(response),
  createStreamEncoder: () => new AnthropicStreamEncoder(),
  encodeError,
  encodeRequest,
  decodeResponse,
  responseUsage: { field: "usage", decode: anthropicResponseUsage },
  createStreamDecoder: () => new AnthropicStreamDecoder(),
  decodeError,
};

export const anthropicProtocol: ProtocolDescriptor = {
  protocol: "anthropic",
  codec: anthropicCodec,
  // The Anthropic SDK's base URL is the host: it adds /v1/messages itself.
  matchPath: (pathname) =>
    pathname === "/v1/messages" ? { kind: "inference" } : pathname === "/v1/messages/count_tokens" ? { kind: "count_tokens" } : undefined,
  credentialHeader: "x-api-key",
  callerHints: { pathPrefix: "/v1/messages", header: "anthropic-version" },
  featureHeaders: ["anthropic-beta", "anthropic-version"],
  modelInPath: false,
  limitFields: { outputTokens: [["max_tokens"]], reasoning: ["thinking"], thinkingBudget: ["thinking", "budget_tokens"] },
  requiredOutputLimit: "max_tokens",
  tokenCounting: {
    path: () => "/v1/messages/count_tokens",
    countedRequest: (body) => body,
    answer: (tokens) => ({ input_tokens: tokens }),
  },
  // `GET /v1/models/{id}` with an `anthropic-version` header.
  modelShape: { model: (m) => ({ type: "model", id: m.id, display_name: m.name ?? m.id, created_at: "1970-01-01T00:00:00Z" }) },
  authHeaders: (apiKey) => ({ "x-api-key": apiKey }),
  requestHeaders: { "anthropic-version": ANTHROPIC_VERSION },
  answerFields: { content: "[" },
  passthroughPath: () => "/v1/messages",
  carriesOutcome,
  mayCarryOutcome,
  encodeStreamError,
};
