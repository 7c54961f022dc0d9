/**
 * Google Gemini API (`POST /v1beta/models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`) <-> canonical. The model and the streaming choice live in the URL.
 * What Gemini cannot express is listed in docs/protocol-mapping.md.
 *
 * Thought signatures: Gemini attaches an opaque `thoughtSignature` to thought parts and also to
 * ordinary parts (function calls, text) that must be sent back verbatim. A signature on an ordinary
 * part travels in canonical form as an empty ReasoningPart `{text: "", signature}` right before the
 * part; the encoder re-attaches it to the next part.
 */
import type { Codec } from "../../codec.js";
import { decodeError, encodeError } from "./errors.js";
import { decodeRequest, encodeRequest } from "./request.js";
import { decodeResponse, encodeResponse, geminiResponseUsage } from "./response.js";
import { GeminiStreamDecoder } from "./stream-decoder.js";
import { GeminiStreamEncoder } from "./stream-encoder.js";

export { toGeminiSchema } from "./schema.js";

export const googleCodec: Codec = {
  protocol: "google",
  decodeRequest,
  encodeResponse: (response) => encodeResponse(response),
  createStreamEncoder: () => new GeminiStreamEncoder(),
  encodeError,
  encodeRequest,
  decodeResponse,
  responseUsage: { field: "usageMetadata", decode: geminiResponseUsage },
  createStreamDecoder: () => new GeminiStreamDecoder(),
  decodeError,
};
