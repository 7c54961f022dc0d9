import type { ErrorInfo, Protocol } from "@bitrouter/core";
import type { Codec } from "./codec.js";

/**
 * Everything about a wire protocol besides translating it (its `codec`): which inbound paths it
 * serves, how callers and upstreams authenticate, where a same-protocol request is forwarded, and
 * which stream events matter to metering. The router and the server read these facts from here
 * instead of switching on the protocol name. Each protocol's folder (protocols/<name>/index.ts)
 * assembles its descriptor.
 */
export interface ProtocolDescriptor {
  readonly protocol: Protocol;
  readonly codec: Codec;

  // ── Inbound: BitRouter is the server the caller's SDK talks to ───────────────────────────────
  /** What a POST to `pathname` asks of this protocol, or undefined when the path is not one of its own. */
  matchPath(pathname: string): InboundRoute | undefined;
  /** The header carrying the caller's API key besides `Authorization: Bearer` (e.g. `x-api-key`). */
  readonly credentialHeader?: string;
  /** The query parameter some SDKs put the API key in (Gemini's `?key=`). */
  readonly credentialQueryParam?: string;
  /**
   * How to tell a caller speaks this protocol on a path that is not an inference route (a 404, a
   * model lookup): a path prefix, or a header its SDK always sends. Without hints: OpenAI's shapes.
   */
  readonly callerHints?: { readonly pathPrefix: string; readonly header: string };
  /** Feature headers (betas, API version) forwarded to upstreams of this same protocol only. */
  readonly featureHeaders: readonly string[];

  // ── Request body: what the router reads and fits before it forwards a body ───────────────────
  /**
   * Whether the model and the streaming choice are in the URL path (Gemini: `matchPath` reads them)
   * rather than the body's `model` and `stream`. A forwarded body then keeps its own model.
   */
  readonly modelInPath: boolean;
  /** Where a body holds what the router fits to the target model's catalog limits. */
  readonly limitFields: LimitFields;
  /**
   * A top-level output-limit field the protocol requires (Anthropic's `max_tokens`): a forwarded
   * body without it gets the target model's max_output_tokens, as `encodeRequest` does.
   */
  readonly requiredOutputLimit?: string;
  /** For a protocol whose streams carry usage only when the request asks (OpenAI chat). */
  readonly streamUsage?: StreamUsage;
  /** Token counting (`kind: "count_tokens"` routes), for protocols that serve it. */
  readonly tokenCounting?: TokenCounting;

  /**
   * This protocol's own shape of a model object (a model lookup by its SDK) and, when it has its own
   * list endpoint, of the model list. Without it: OpenAI's shapes, with BitRouter's metadata.
   */
  readonly modelShape?: ModelShape;

  // ── Outbound: BitRouter is the client of a provider ──────────────────────────────────────────
  /** The header(s) carrying a provider's API key, unless the provider configures its own auth. */
  authHeaders(apiKey: string): Record<string, string>;
  /** Headers every request to such a provider carries (e.g. `anthropic-version`). */
  readonly requestHeaders: Readonly<Record<string, string>>;
  /** The upstream path (relative to api_base) of a request forwarded without translation. */
  passthroughPath(modelId: string, stream: boolean): string;
  /**
   * The top-level fields every non-stream answer of this protocol has, each with how its JSON value
   * starts (`[` for an array, or the whole value). With these present and no `error` object, the
   * fast path meters a 2xx from its usage field alone (`codec.responseUsage`); otherwise it decodes
   * the whole answer, which fails a 2xx that is not an answer (so the request fails over).
   */
  readonly answerFields: Readonly<Record<string, string>>;

  // ── Streams ──────────────────────────────────────────────────────────────────────────────────
  /**
   * Whether one upstream SSE event may carry usage, the finish or an error: on the same-protocol
   * fast path only those are decoded (for metering), content deltas pass unparsed.
   */
  carriesOutcome(event: string | undefined, data: string): boolean;
  /**
   * Whether a chunk of upstream SSE bytes may hold such an event. False only when none can be in it,
   * so a chunk of whole content events can go to the client without text decoding or SSE parsing.
   * `text` is the chunk as latin1 (one character per byte, so ASCII marks match as in the bytes): one
   * regex pass over it costs a fraction of a byte search per needle (~0.4 vs ~2 µs for a chat chunk).
   */
  mayCarryOutcome(text: string): boolean;
  /**
   * A standalone SSE error event in this protocol, for streams BitRouter did not encode itself (the
   * fast path pipes upstream bytes, then must end a failed stream with the protocol's own error
   * event rather than a clean close that looks like success).
   */
  encodeStreamError(error: ErrorInfo): string;
}

/** What an inbound POST path asks for: a completion, or (Anthropic, Gemini) a token count. */
export interface InboundRoute {
  kind: "inference" | "count_tokens";
  /** The model, for protocols that carry it in the URL (Gemini). */
  model?: string;
  /** The streaming choice, for protocols that carry it in the URL (Gemini). */
  stream?: boolean;
  /** Set when the path is this protocol's but malformed: the message of the 400 to answer. */
  invalid?: string;
}

/** A field inside a JSON body: its key, after the keys of the objects holding it. */
export type FieldPath = readonly [string, ...string[]];

/** Where a wire body holds the parameters bound by a model's catalog limits. */
export interface LimitFields {
  /** The output-token limits, lowered to the model's max_output_tokens. */
  readonly outputTokens: readonly FieldPath[];
  /** The reasoning parameters, dropped for a model marked `reasoning: false`. */
  readonly reasoning: FieldPath;
  /** The thinking budget, lowered to the model's max_reasoning_tokens. */
  readonly thinkingBudget?: FieldPath;
}

/** How a protocol counts tokens: upstream when the route's endpoint speaks it, else estimated. */
export interface TokenCounting {
  /** The upstream path (relative to api_base) counting tokens for `modelId`. */
  path(modelId: string): string;
  /** The request to count inside the caller's body (Gemini may wrap it in `generateContentRequest`). */
  countedRequest(body: Record<string, unknown>): Record<string, unknown>;
  /** The answer with an estimated count, in this protocol's shape. */
  answer(tokens: number): Record<string, unknown>;
}

/** What a protocol's model objects can tell of a model BitRouter serves. */
export interface ModelDescription {
  readonly id: string;
  readonly name?: string | undefined;
  readonly description?: string | undefined;
  readonly maxInputTokens?: number | undefined;
  readonly maxOutputTokens?: number | undefined;
}

/** A protocol's model objects (see ProtocolDescriptor.modelShape). */
export interface ModelShape {
  model(model: ModelDescription): Record<string, unknown>;
  /** The body listing `models`, for a protocol with its own list endpoint (Gemini's `GET /v1beta/models`). */
  list?(models: readonly ModelDescription[]): Record<string, unknown>;
}

/**
 * Usage on streams that carry it only when asked: metering needs it, so a forwarded body asks, and
 * the usage-only event is hidden from a caller who did not ask (its SDK would not expect it).
 */
export interface StreamUsage {
  /** The body fields to add (or merge) to ask for usage, given the caller's fields; undefined when it asked already. */
  ask(field: (name: string) => unknown): Record<string, unknown> | undefined;
  /** Whether a streamed event's data is the usage-only one. */
  isUsageOnly(data: string): boolean;
}
