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
   */
  mayCarryOutcome(chunk: Buffer): boolean;
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
