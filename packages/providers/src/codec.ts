import type { CanonicalRequest, CanonicalResponse, ErrorInfo, JsonObject, Protocol, ProtocolName, StreamEvent, Usage } from "@bitrouter/core";

/**
 * The outbound half of a codec: how BitRouter, as a client, talks to a provider of one protocol.
 * This is all a provider package implements to add a protocol (`protocols` in its export): requests
 * in any inbound protocol reach such providers through the canonical model.
 */
export interface UpstreamCodec {
  readonly protocol: ProtocolName;
  /** Build the upstream request (path relative to the provider's api_base, and JSON body). */
  encodeRequest(request: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest;
  /** Parse a provider's (non-stream) response body. */
  decodeResponse(body: unknown): CanonicalResponse;
  /**
   * The usage `decodeResponse` reports, from the value of one top-level field of the response
   * (`field`; the value is undefined when the field is absent). Lets the same-protocol fast path
   * meter an answer by parsing that field alone. Optional: without it the whole body is decoded.
   */
  readonly responseUsage?: { field: string; decode(value: unknown): Usage };
  /** A stateful decoder turning a provider's SSE events into canonical stream events. */
  createStreamDecoder(): StreamDecoder;
  /** Map a provider's error answer (status + parsed JSON body, or text) to an ErrorInfo. */
  decodeError(status: number, body: unknown): ErrorInfo;
}

/**
 * A codec translates one wire protocol to and from the canonical model, in both roles:
 * inbound (BitRouter is the server the SDK talks to) and outbound (BitRouter is the client of a
 * provider). Codecs are pure: no I/O, no logging, no clocks except where a protocol needs a
 * timestamp. Errors for bad input are thrown as BitrouterError with `kind: "invalid_request"` and
 * `param` naming the field.
 */
export interface Codec extends UpstreamCodec {
  readonly protocol: Protocol;

  // ── Inbound: client request -> canonical -> client response ──────────────────────────────
  /** Parse and validate a client's request body. */
  decodeRequest(body: unknown, options?: DecodeRequestOptions): CanonicalRequest;
  /** Render a canonical (non-stream) response as this protocol's response body. */
  encodeResponse(response: CanonicalResponse, request: CanonicalRequest): JsonObject;
  /** A stateful encoder turning canonical stream events into this protocol's SSE text. */
  createStreamEncoder(request: CanonicalRequest): StreamEncoder;
  /** This protocol's error body and HTTP status for an error. */
  encodeError(error: ErrorInfo): { status: number; body: JsonObject };
}

export interface DecodeRequestOptions {
  /** Gemini carries the model and the streaming choice in the URL, not the body. */
  model?: string;
  stream?: boolean;
}

export interface EncodeRequestOptions {
  /** The provider's model id to put on the wire. */
  model: string;
  /** Used when the target requires max tokens (Anthropic) and the request set none: the catalog's max_output_tokens. */
  defaultMaxTokens?: number;
  /**
   * openai-chat only: the field that carries the output limit. OpenAI itself wants
   * `max_completion_tokens` (its reasoning models reject `max_tokens`); most OpenAI-compatible
   * servers only know `max_tokens`. Default `max_completion_tokens`.
   */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
}

export interface UpstreamRequest {
  /** Path appended to api_base, e.g. "/chat/completions" or "/v1beta/models/x:streamGenerateContent?alt=sse". */
  path: string;
  body: JsonObject;
  /** Protocol-required headers (e.g. anthropic-version); auth headers are the client's job. */
  headers?: Record<string, string>;
}

/** One parsed server-sent event. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

export interface StreamEncoder {
  /** SSE text for one canonical event ("" when the event produces no output yet). */
  encode(event: StreamEvent): string;
  /** Trailing SSE text once the stream is over (e.g. OpenAI's `data: [DONE]`). */
  end(): string;
}

export interface StreamDecoder {
  /** Canonical events for one upstream SSE event. */
  decode(event: SseEvent): StreamEvent[];
  /** Events owed when the upstream stream ends (e.g. a finish never sent explicitly). */
  end(): StreamEvent[];
}
