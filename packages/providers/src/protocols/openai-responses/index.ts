/**
 * OpenAI Responses (`POST {base}/responses`) <-> canonical.
 *
 * BitRouter keeps no server-side state, so requests that point at stored responses
 * (`previous_response_id`, `conversation`, `item_reference`, `background`) are rejected, and
 * upstream requests are sent with `store: false`. Lossy spots: docs/protocol-mapping.md.
 * Errors are OpenAI's (../openai-chat/errors.ts).
 */
import type { Codec } from "../../codec.js";
import type { ProtocolDescriptor } from "../../descriptor.js";
import { bearerAuth } from "../openai-chat/index.js";
import { decodeOpenAIError, encodeOpenAIError } from "../openai-chat/errors.js";
import { decodeResponsesRequest, encodeResponsesRequest } from "./request.js";
import { decodeResponsesResponse, encodeResponsesResponse, responsesResponseUsage } from "./response.js";
import { encodeResponsesStreamError } from "./errors.js";
import { ResponsesStreamDecoder, carriesOutcome, mayCarryOutcome } from "./stream-decoder.js";
import { ResponsesStreamEncoder } from "./stream-encoder.js";

export const openaiResponsesCodec: Codec = {
  protocol: "openai-responses",
  decodeRequest: decodeResponsesRequest,
  encodeResponse: encodeResponsesResponse,
  createStreamEncoder: (request) => new ResponsesStreamEncoder(request),
  encodeError: encodeOpenAIError,
  encodeRequest: encodeResponsesRequest,
  decodeResponse: decodeResponsesResponse,
  responseUsage: { field: "usage", decode: responsesResponseUsage },
  createStreamDecoder: () => new ResponsesStreamDecoder(),
  decodeError: decodeOpenAIError,
};

export const openaiResponsesProtocol: ProtocolDescriptor = {
  protocol: "openai-responses",
  codec: openaiResponsesCodec,
  matchPath: (pathname) => (pathname === "/v1/responses" || pathname === "/responses" ? { kind: "inference" } : undefined),
  featureHeaders: ["openai-beta"],
  modelInPath: false,
  limitFields: { outputTokens: [["max_output_tokens"]], reasoning: ["reasoning"] },
  authHeaders: bearerAuth,
  requestHeaders: {},
  // A failed or incomplete response is decoded whole (a failed one fails the attempt).
  answerFields: { output: "[", status: '"completed"' },
  passthroughPath: () => "/responses",
  carriesOutcome,
  mayCarryOutcome,
  encodeStreamError: encodeResponsesStreamError,
};
