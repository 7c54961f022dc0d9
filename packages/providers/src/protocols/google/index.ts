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
import type { InboundRoute, ModelDescription, ProtocolDescriptor } from "../../descriptor.js";
import { decodeError, encodeError, encodeStreamError } from "./errors.js";
import { decodeRequest, encodeRequest } from "./request.js";
import { decodeResponse, encodeResponse, geminiResponseUsage } from "./response.js";
import { GeminiStreamDecoder, carriesOutcome, mayCarryOutcome } from "./stream-decoder.js";
import { GeminiStreamEncoder } from "./stream-encoder.js";
import { isRecord } from "../util.js";

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

/** `POST /v1beta/models/{model}:{action}` (the Gemini SDK's default; `/v1/` works too). */
const MODEL_ACTION_PATH = /^\/v1(?:beta)?\/models\/(.+):(generateContent|streamGenerateContent|countTokens)$/;

function matchPath(pathname: string): InboundRoute | undefined {
  const match = MODEL_ACTION_PATH.exec(pathname);
  if (!match) return undefined;
  const action = match[2];
  const route: InboundRoute = action === "countTokens" ? { kind: "count_tokens" } : { kind: "inference", stream: action === "streamGenerateContent" };
  try {
    route.model = decodeURIComponent(match[1]!);
  } catch {
    route.invalid = "the model in the URL path is not valid percent-encoding";
  }
  return route;
}

/** A model in Gemini's shape (`GET /v1beta/models[/{id}]`). */
function geminiModel(m: ModelDescription): Record<string, unknown> {
  return {
    name: `models/${m.id}`,
    displayName: m.name ?? m.id,
    ...(m.description ? { description: m.description } : {}),
    ...(m.maxInputTokens ? { inputTokenLimit: m.maxInputTokens } : {}),
    ...(m.maxOutputTokens ? { outputTokenLimit: m.maxOutputTokens } : {}),
    supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
  };
}

export const googleProtocol: ProtocolDescriptor = {
  protocol: "google",
  codec: googleCodec,
  matchPath,
  credentialHeader: "x-goog-api-key",
  credentialQueryParam: "key",
  callerHints: { pathPrefix: "/v1beta/", header: "x-goog-api-key" },
  featureHeaders: [],
  modelInPath: true,
  limitFields: {
    outputTokens: [["generationConfig", "maxOutputTokens"]],
    reasoning: ["generationConfig", "thinkingConfig"],
    thinkingBudget: ["generationConfig", "thinkingConfig", "thinkingBudget"],
  },
  tokenCounting: {
    path: (modelId) => `/v1beta/models/${encodeURIComponent(modelId)}:countTokens`,
    // Gemini takes either a bare request or {generateContentRequest: {...}}.
    countedRequest: (body) => (isRecord(body.generateContentRequest) ? body.generateContentRequest : body),
    answer: (tokens) => ({ totalTokens: tokens }),
  },
  modelShape: { model: geminiModel, list: (models) => ({ models: models.map(geminiModel) }) },
  authHeaders: (apiKey) => ({ "x-goog-api-key": apiKey }),
  requestHeaders: {},
  // The model and the streaming choice live in the URL.
  // A blocked prompt has no candidates (promptFeedback only): decoded whole.
  answerFields: { candidates: "[" },
  passthroughPath: (modelId, stream) => `/v1beta/models/${encodeURIComponent(modelId)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
  carriesOutcome,
  mayCarryOutcome,
  encodeStreamError,
};
