/**
 * Anthropic Messages API (`POST /v1/messages`, `anthropic-version: 2023-06-01`) <-> canonical.
 * What Anthropic cannot express, and what other protocols cannot express of it, is listed in
 * docs/protocol-mapping.md.
 */
import type { Codec } from "../../codec.js";
import { decodeError, encodeError } from "./errors.js";
import { decodeRequest, encodeRequest } from "./request.js";
import { anthropicResponseUsage, decodeResponse, encodeResponse } from "./response.js";
import { AnthropicStreamDecoder } from "./stream-decoder.js";
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
