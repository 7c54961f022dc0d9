/**
 * The outbound HTTP client: one pooled undici Agent for every provider, and the fixed order of an
 * upstream call (convert -> send -> map error -> convert back).
 *
 * Failures are thrown as ProviderError (a BitrouterError). What the router should do with them:
 *
 * | what happened                              | kind / code                          | retryable |
 * |--------------------------------------------|--------------------------------------|-----------|
 * | connection refused / reset, DNS, socket    | upstream / connection_error          | yes       |
 * | the stream broke after events were yielded | upstream / stream_interrupted        | yes*      |
 * | no response head within timeoutMs          | timeout / upstream_timeout           | yes       |
 * | the caller's AbortSignal.timeout() fired   | timeout / upstream_timeout           | yes       |
 * | a stream went silent for idleTimeoutMs     | timeout / upstream_timeout           | yes*      |
 * | connect timeout                            | timeout / connect_timeout            | yes       |
 * | upstream non-2xx                           | codec.decodeError(...) (kind, code)  | 408, 409, 429, 5xx |
 * | 2xx with a body the codec cannot read      | upstream / invalid_upstream_response | yes       |
 * | 2xx stream without a single SSE event      | upstream / invalid_upstream_response | yes       |
 * | 2xx answer over maxResponseBytes           | upstream / response_too_large        | no        |
 * | the caller's signal aborted (other reason) | internal / aborted (status 499)      | no        |
 * | codec.encodeRequest rejects the request    | its own BitrouterError (not a ProviderError), e.g. invalid_request | no |
 *
 * Deadlines: `timeoutMs` (time to the response head) and `idleTimeoutMs` (silence inside a body) run
 * on undici's own per-request timers, which tick about once a second: cheap, but coarse. For a
 * precise or overall deadline (one budget across failover attempts), pass
 * `AbortSignal.timeout(ms)` (or `AbortSignal.any([...])`) as the signal: it maps to a timeout error.
 *
 * `upstreamStatus` keeps the provider's HTTP status. (*) "Retryable" means another attempt may
 * succeed; once stream events reached the client, a retry would repeat output, so the router must
 * also know whether it already committed the response.
 * Messages name the provider and the upstream status, never the API key (it is redacted from any
 * upstream error text that echoes it).
 */
import { finished } from "node:stream";
import { Agent, type Dispatcher } from "undici";
import type { CanonicalRequest, CanonicalResponse, ErrorKind, ProtocolName, StreamEvent } from "@bitrouter/core";
import type { EncodeRequestOptions, SseEvent, StreamDecoder, UpstreamCodec } from "./codec.js";
import { BitrouterError } from "@bitrouter/core";
import { type ByteSource, SseParser, sseEvents } from "./sse.js";
import { descriptorOf } from "./protocols/index.js";

/** One upstream call as undici's dispatch takes it. */
type DispatchOptions = Dispatcher.DispatchOptions & { origin: string };

/** What the router resolved for one attempt. */
export interface ProviderEndpoint {
  /** Provider name, for errors and logs. */
  provider: string;
  /** Wire protocol of the upstream: a built-in one or one a provider package registered. */
  protocol: ProtocolName;
  /** e.g. https://api.openai.com/v1 (codec paths are appended to it). */
  apiBase: string;
  apiKey?: string;
  /**
   * Supplies the key per request instead of `apiKey` (a key that expires, such as a wallet-signed
   * token): called before each send, so it caches and renews the key itself.
   */
  apiKeySupplier?: () => Promise<string>;
  /** How the key is sent; default: the protocol's own (ProtocolDescriptor.authHeaders). */
  auth?: { type: "bearer" } | { type: "header"; headerName: string } | { type: "none" };
  /** Added to every request; they never replace the auth header. */
  defaultHeaders?: Record<string, string>;
  /** Pays the upstream's 402 answers (provider `auth: {type: mpp}`): the request is then sent once more. */
  pay?: UpstreamPayer;
}

/**
 * Pays an upstream's `402 Payment Required` (its `WWW-Authenticate: Payment …` challenge) and
 * resolves to the headers that carry the payment credential; throws (e.g. a refused price) to give
 * up. The request is sent again once with those headers.
 */
export type UpstreamPayer = (challenge: { url: string; headers: Headers; body: string }) => Promise<Record<string, string>>;

export interface ProviderClientOptions {
  /**
   * Max sockets per upstream origin; default: no cap. A stream holds its socket for its whole life,
   * so a cap silently queues the streams past it (agents would see nothing at all); limit load in
   * front of the router instead.
   */
  connections?: number | null;
  /** How long an idle keep-alive socket is kept (default 30 s; an upstream's own hint may shorten it). */
  keepAliveTimeoutMs?: number;
  /** TCP + TLS connect deadline (default 10 s). */
  connectTimeoutMs?: number;
  /** Default deadline for the response head, from when the request is written (default 600 s, ~1 s resolution). */
  timeoutMs?: number;
  /** Max silence between body chunks once the answer started (default 300 s; checked on undici's ~1 s clock). */
  idleTimeoutMs?: number;
  /** Largest whole (non-stream) answer read, in bytes (default 64 MiB); streams are not buffered. */
  maxResponseBytes?: number;
}

export interface UpstreamHttpRequest {
  endpoint: ProviderEndpoint;
  /** Path (and query) appended to `endpoint.apiBase`. */
  path: string;
  /** Default POST (GET for model lists). */
  method?: "POST" | "GET";
  /** The body: text, bytes, or bytes in parts sent one after another (a spliced body: no joined copy). */
  body?: string | Uint8Array | readonly Uint8Array[];
  /** Extra headers (e.g. a codec's protocol headers); names are case-insensitive. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Deadline for the response head; defaults to the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Max silence between body chunks; defaults to the client's `idleTimeoutMs`. */
  idleTimeoutMs?: number;
}

export type ResponseBody = Dispatcher.ResponseData["body"];

export interface UpstreamHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** undici's readable body: consume it (or `dump()` / `destroy()` it) to free the socket. */
  body: ResponseBody;
  /** The key the request carried (a supplied one too: `apiKeySupplier`), to blank it from upstream text that echoes it. */
  sentKey?: string | undefined;
}

/** An answer read whole by the client (`requestWhole`). */
export interface WholeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body: a 2xx one whole, another status's first MAX_ERROR_BODY bytes. */
  body: Buffer;
  /** A non-2xx body was longer than MAX_ERROR_BODY and is cut there (so it may not parse). */
  truncated: boolean;
  /** The key the request carried, as in UpstreamHttpResponse. */
  sentKey?: string | undefined;
}

export interface SendOptions {
  /** The provider's model id to put on the wire. */
  model: string;
  defaultMaxTokens?: number;
  maxTokensField?: EncodeRequestOptions["maxTokensField"];
  signal?: AbortSignal;
  /** Deadline for the response head; defaults to the client's. */
  timeoutMs?: number;
  /** Max silence between stream chunks; defaults to the client's. */
  idleTimeoutMs?: number;
  /** Largest non-stream answer, in bytes; defaults to the client's. */
  maxResponseBytes?: number;
  /** Extra request headers (e.g. the caller's protocol feature headers); the codec's own are kept unless named here. */
  headers?: Record<string, string>;
}

export interface ProviderClient {
  /** One POST to the upstream; any status is returned as is (transport failures throw ProviderError). */
  request(request: UpstreamHttpRequest): Promise<UpstreamHttpResponse>;
  /**
   * `request` with the answer read whole, for a non-stream call: a 2xx body up to `limit` bytes
   * (default: the client's `maxResponseBytes`; more is a non-retryable `response_too_large`
   * ProviderError), another status's up to MAX_ERROR_BODY. No stream is made for the body, which
   * makes it the cheaper of the two per call. Transport failures throw ProviderError.
   */
  requestWhole(request: UpstreamHttpRequest, limit?: number): Promise<WholeResponse>;
  /** The SSE events of a response body, parsed incrementally. */
  sseEvents(body: ByteSource, signal?: AbortSignal): AsyncIterable<SseEvent>;
  /** A non-stream call: encode, send, map a non-2xx answer to ProviderError, decode. */
  send(codec: UpstreamCodec, endpoint: ProviderEndpoint, request: CanonicalRequest, options: SendOptions): Promise<CanonicalResponse>;
  /**
   * A stream call. The promise settles once the upstream answered: connection errors and non-2xx
   * answers reject it (before anything was sent to the client, so the router can fail over); the
   * events are then decoded as the bytes arrive.
   */
  stream(codec: UpstreamCodec, endpoint: ProviderEndpoint, request: CanonicalRequest, options: SendOptions): Promise<AsyncIterable<StreamEvent>>;
  /** `stream`, one array per upstream read (the events its bytes completed, never empty): one async hop per read, not per event. */
  streamBatches(codec: UpstreamCodec, endpoint: ProviderEndpoint, request: CanonicalRequest, options: SendOptions): Promise<AsyncIterable<StreamEvent[]>>;
  /**
   * `stream`'s first half, for a caller that decodes the bytes as they come (EventStreamDecoder):
   * the 2xx answer's body once its head came; fails like `stream`. Reading the body is the caller's:
   * map its failures with `upstreamFailure`, destroy it to stop early.
   */
  openStream(codec: UpstreamCodec, endpoint: ProviderEndpoint, request: CanonicalRequest, options: SendOptions): Promise<ResponseBody>;
  /** Destroys the pool (open requests fail). */
  close(): Promise<void>;
}

/** A failure talking to a provider; see the table at the top of this file. */
export class ProviderError extends BitrouterError {
  /** Whether another attempt (same or another endpoint) may succeed. */
  readonly retryable: boolean;
  readonly provider: string;
  /** The provider's HTTP status, when it answered. */
  readonly upstreamStatus?: number;

  constructor(info: {
    kind: ErrorKind;
    message: string;
    provider: string;
    retryable: boolean;
    status?: number;
    code?: string;
    param?: string;
    upstreamStatus?: number;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(info);
    this.name = "ProviderError";
    this.retryable = info.retryable;
    this.provider = info.provider;
    if (info.upstreamStatus !== undefined) this.upstreamStatus = info.upstreamStatus;
  }
}

/** The caller gave up (its signal aborted): not a provider failure, never retried. */
export function isAbortedError(error: unknown): boolean {
  return error instanceof ProviderError && error.code === "aborted";
}

/** 408, 409, 429 and every 5xx (529 included) may succeed on another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The auth header for an endpoint, or none without a key. */
export function authHeaders(endpoint: ProviderEndpoint): Record<string, string> {
  const key = endpoint.apiKey;
  if (!key) return {};
  const auth = endpoint.auth;
  if (auth?.type === "none") return {};
  if (auth?.type === "bearer") return { authorization: `Bearer ${key}` };
  if (auth?.type === "header") return { [auth.headerName.toLowerCase()]: key };
  // A registered (package) protocol has no descriptor: Bearer unless its provider sets `auth`.
  const descriptor = descriptorOf(endpoint.protocol);
  return descriptor ? descriptor.authHeaders(key) : { authorization: `Bearer ${key}` };
}

/** The endpoint with the key its supplier gives now; a supplier that fails is an upstream error naming the provider. */
async function withSuppliedKey(endpoint: ProviderEndpoint, supplier: () => Promise<string>): Promise<ProviderEndpoint> {
  try {
    return { ...endpoint, apiKey: await supplier() };
  } catch (error) {
    const { provider } = endpoint;
    throw new ProviderError({
      kind: "upstream",
      code: "upstream_credential_failed",
      message: `${provider}: could not obtain the key to send: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      provider,
      retryable: true,
      cause: error,
    });
  }
}

function stopListening(signal: AbortSignal, listener: () => void): void {
  signal.removeEventListener("abort", listener);
}

function isParts(body: UpstreamHttpRequest["body"]): body is readonly Uint8Array[] {
  return Array.isArray(body);
}

function lowercase(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers) for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/**
 * Request headers, later entries winning: content type and protocol defaults, the call's headers
 * (a codec's protocol headers, the caller's feature headers), the endpoint's default headers, then
 * auth (never overridden). Beta lists (`anthropic-beta`, `openai-beta`) of the call and the endpoint
 * are combined instead.
 */
export function buildHeaders(endpoint: ProviderEndpoint, extra?: Record<string, string>): Record<string, string> {
  // Most calls add no headers of their own: an endpoint's headers are then the same every time.
  if (!endpoint.apiKeySupplier && (extra === undefined || isEmpty(extra))) {
    let same = headersOfEndpoint.get(endpoint);
    if (!same) {
      same = composeHeaders(endpoint);
      headersOfEndpoint.set(endpoint, same);
    }
    return { ...same };
  }
  return composeHeaders(endpoint, extra);
}

/** An endpoint's headers for calls without headers of their own (endpoints are not changed once built). */
const headersOfEndpoint = new WeakMap<ProviderEndpoint, Readonly<Record<string, string>>>();

function isEmpty(record: Record<string, string>): boolean {
  for (const _ in record) return false;
  return true;
}

function composeHeaders(endpoint: ProviderEndpoint, extra?: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = { "content-type": "application/json", ...descriptorOf(endpoint.protocol)?.requestHeaders };
  const call = lowercase(extra);
  const defaults = lowercase(endpoint.defaultHeaders);
  const headers = { ...base, ...call, ...defaults, ...authHeaders(endpoint) };
  // Feature lists add up: a provider's betas must not cancel the ones a caller's request relies on.
  for (const name of FEATURE_LIST_HEADERS) {
    if (call[name] !== undefined && defaults[name] !== undefined) headers[name] = joinList(defaults[name], call[name]);
  }
  return headers;
}

/** Headers whose value is a comma-separated list of opt-in features. */
const FEATURE_LIST_HEADERS = ["anthropic-beta", "openai-beta"] as const;

function joinList(...values: string[]): string {
  const items = values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
  return [...new Set(items)].join(",");
}

/** Splits `apiBase + path` into undici's origin and path (api_base paths and trailing slashes kept right). */
export function upstreamUrl(endpoint: ProviderEndpoint, path: string): { origin: string; path: string } {
  return joinBase(parseBase(endpoint), path);
}

function joinBase(base: { origin: string; prefix: string }, path: string): { origin: string; path: string } {
  return { origin: base.origin, path: base.prefix + (path.startsWith("/") ? path : `/${path}`) };
}

function parseBase(endpoint: ProviderEndpoint): { origin: string; prefix: string } {
  let base: URL;
  try {
    base = new URL(endpoint.apiBase);
  } catch {
    throw new BitrouterError({ kind: "internal", message: `${endpoint.provider}: api_base "${endpoint.apiBase}" is not a valid URL` });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new BitrouterError({ kind: "internal", message: `${endpoint.provider}: api_base "${endpoint.apiBase}" must be an http(s) URL` });
  }
  return { origin: base.origin, prefix: base.pathname.replace(/\/+$/, "") };
}

function redact(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join("[redacted]") : text;
}

function retryAfterMs(headers: UpstreamHttpResponse["headers"]): number | undefined {
  const raw = headers["retry-after"];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Cap on an error body we read (the rest is discarded): error bodies are small, a misbehaving upstream's may not be. */
export const MAX_ERROR_BODY = 64 * 1024;
/** Default cap on a whole (non-stream) answer: generous for inline images, bounded for memory. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** An upstream error body as read: at most MAX_ERROR_BODY bytes. */
export interface ErrorBody {
  text: string;
  /** The body was longer than the cap (its text is cut, so it may not parse). */
  truncated: boolean;
}

/** Reads up to `limit` bytes; the rest is never read (the body is destroyed, freeing memory at once). */
async function readCapped(body: ResponseBody, limit: number): Promise<ErrorBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
    if (size > limit) {
      body.destroy();
      return { text: Buffer.concat(chunks).subarray(0, limit).toString("utf8"), truncated: true };
    }
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}

/** Reads (and so releases) a non-2xx answer's body, capped at MAX_ERROR_BODY bytes; a failed read leaves the status alone to speak. */
export async function readErrorBody(response: UpstreamHttpResponse): Promise<ErrorBody> {
  try {
    return await readCapped(response.body, MAX_ERROR_BODY);
  } catch {
    if (!response.body.destroyed) response.body.destroy();
    return { text: "", truncated: false };
  }
}

/**
 * Reads a whole 2xx (non-stream) answer as text, refusing one larger than `limit` bytes. A refused
 * answer is not retried: the upstream did the work, and another endpoint would likely answer as much.
 * Transport failures are thrown as they come (map them with `upstreamFailure`).
 */
export async function readAnswer(response: UpstreamHttpResponse, endpoint: ProviderEndpoint, limit: number): Promise<string> {
  return (await readAnswerBytes(response, endpoint, limit)).toString("utf8");
}

/** readAnswer's bytes, undecoded (`requestWhole` reads them without a stream). */
export async function readAnswerBytes(response: UpstreamHttpResponse, endpoint: ProviderEndpoint, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      response.body.destroy();
      throw answerTooLarge(endpoint, limit);
    }
    chunks.push(buf);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** A 2xx answer over the limit: not retried (the upstream did the work; another would answer as much). */
function answerTooLarge(endpoint: ProviderEndpoint, limit: number): ProviderError {
  return new ProviderError({
    kind: "upstream",
    code: "response_too_large",
    message: `${endpoint.provider}: the answer exceeds the limit of ${limit} bytes (server.response_limit)`,
    provider: endpoint.provider,
    retryable: false,
  });
}

/**
 * Maps a provider's non-2xx answer to a ProviderError via the codec's own error decoding. Reads
 * (and so releases) the body.
 */
export async function upstreamError(codec: UpstreamCodec, endpoint: ProviderEndpoint, response: UpstreamHttpResponse): Promise<ProviderError> {
  return upstreamErrorFrom(codec, endpoint, response, await readErrorBody(response));
}

/** The ProviderError for a non-2xx answer whose body was already read (the fast path reads it itself). */
export function upstreamErrorFrom(
  codec: UpstreamCodec,
  endpoint: ProviderEndpoint,
  response: Pick<UpstreamHttpResponse, "status" | "headers">,
  body: ErrorBody,
): ProviderError {
  let parsed: unknown = body.text;
  try {
    parsed = JSON.parse(body.text) as unknown;
  } catch {
    // Not JSON (a proxy's HTML page, plain text, a cut body): the codec gets the text.
  }
  const info = codec.decodeError(response.status, parsed);
  const retryAfter = retryAfterMs(response.headers);
  const detail = redact(info.message, endpoint.apiKey);
  return new ProviderError({
    kind: info.kind,
    status: info.status,
    ...(info.code === undefined ? {} : { code: info.code }),
    ...(info.param === undefined ? {} : { param: info.param }),
    message: `${endpoint.provider}: upstream answered ${response.status}: ${detail}`,
    provider: endpoint.provider,
    retryable: isRetryableStatus(response.status),
    upstreamStatus: response.status,
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
  });
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

function errorCode(error: unknown): string | undefined {
  // undici wraps some socket errors; the system code may sit on the cause.
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("UND_ERR"))) return code;
  }
  return undefined;
}

/** Why a 2xx stream with no SSE event at all is refused (the fast path says the same). */
export const NO_EVENTS = "the 2xx stream carried no server-sent events";

/** Why a call ended early, as seen by the client (the thrown error alone cannot tell). */
interface CallState {
  endpoint: ProviderEndpoint;
  signal?: AbortSignal;
  timeoutMs: number;
  /** Stream events already yielded to the caller. */
  yielded: number;
}

function transportError(error: unknown, state: CallState): ProviderError {
  if (error instanceof ProviderError) return error;
  const { provider } = state.endpoint;
  if (state.signal?.aborted) {
    const reason: unknown = state.signal.reason;
    if (reason instanceof Error && reason.name === "TimeoutError") {
      // The caller's own deadline (AbortSignal.timeout): a timeout, not a change of mind.
      return new ProviderError({
        kind: "timeout",
        code: "upstream_timeout",
        message: `${provider}: the caller's deadline expired`,
        provider,
        retryable: true,
        cause: error,
      });
    }
    return new ProviderError({
      kind: "internal",
      status: 499,
      code: "aborted",
      message: `${provider}: request aborted by the caller`,
      provider,
      retryable: false,
      cause: error,
    });
  }
  const code = errorCode(error);
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    const what = code === "UND_ERR_BODY_TIMEOUT" ? "no data from the upstream within the idle timeout" : `no answer within ${state.timeoutMs} ms`;
    return new ProviderError({ kind: "timeout", code: "upstream_timeout", message: `${provider}: ${what}`, provider, retryable: true, cause: error });
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return new ProviderError({ kind: "timeout", code: "connect_timeout", message: `${provider}: connect timeout`, provider, retryable: true, cause: error });
  }
  if (error instanceof BitrouterError) {
    // A codec could not read what the upstream sent.
    return new ProviderError({
      kind: "upstream",
      code: "invalid_upstream_response",
      message: `${provider}: unreadable upstream answer: ${redact(error.message, state.endpoint.apiKey)}`,
      provider,
      retryable: true,
      cause: error,
    });
  }
  if (state.yielded > 0) {
    return new ProviderError({
      kind: "upstream",
      code: "stream_interrupted",
      message: `${provider}: the stream broke after ${state.yielded} events (${code ?? "connection lost"})`,
      provider,
      retryable: true,
      cause: error,
    });
  }
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return new ProviderError({
    kind: "upstream",
    code: "connection_error",
    message: `${provider}: connection failed (${redact(reason, state.endpoint.apiKey)})`,
    provider,
    retryable: true,
    cause: error,
  });
}

/**
 * Maps a failure while reading an upstream's 2xx answer (connection lost, idle timeout, abort, a body
 * the codec cannot read) exactly as the client's own calls do. `eventsSoFar` > 0 means the answer had
 * started reaching the caller.
 */
export function upstreamFailure(error: unknown, endpoint: ProviderEndpoint, signal?: AbortSignal, eventsSoFar = 0): ProviderError {
  return transportError(error, { endpoint, ...(signal ? { signal } : {}), timeoutMs: 0, yielded: eventsSoFar });
}

/** The codec options carried by SendOptions. */
function encodeOptions(opts: SendOptions): EncodeRequestOptions {
  const out: EncodeRequestOptions = { model: opts.model };
  if (opts.defaultMaxTokens !== undefined) out.defaultMaxTokens = opts.defaultMaxTokens;
  if (opts.maxTokensField !== undefined) out.maxTokensField = opts.maxTokensField;
  return out;
}

export function createProviderClient(options: ProviderClientOptions = {}): ProviderClient {
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const defaultTimeoutMs = options.timeoutMs ?? 600_000;
  const defaultMaxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const agent = new Agent({
    connections: options.connections ?? null,
    pipelining: 1,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs ?? 30_000, 600_000),
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
  });

  /**
   * Sends one request. Deadlines are undici's own per-request timers (no AbortController or timer
   * of ours on the hot path); the caller's signal goes to undici as is.
   */
  // Parsed api_bases: a handful per config, bounded anyway since routes can be dynamic.
  const bases = new Map<string, { origin: string; prefix: string }>();
  function resolveUrl(endpoint: ProviderEndpoint, path: string): { origin: string; path: string } {
    let base = bases.get(endpoint.apiBase);
    if (!base) {
      base = parseBase(endpoint);
      if (bases.size >= 1_000) bases.clear();
      bases.set(endpoint.apiBase, base);
    }
    return joinBase(base, path);
  }

  async function open(request: UpstreamHttpRequest, state: CallState, accept?: string): Promise<UpstreamHttpResponse> {
    const first = await send(request, state, accept);
    return payIfAsked(
      request,
      first,
      async () => (await readErrorBody(first)).text,
      (payment) => send(request, state, accept, payment),
    );
  }

  /** sendWhole, paying a 402 when the provider is a paid one. No async layer of its own otherwise: see sendWhole. */
  function openWhole(request: UpstreamHttpRequest, state: CallState, limit: number, accept?: string): Promise<WholeResponse> {
    const first = sendWhole(request, state, limit, accept);
    if (!request.endpoint.pay) return first;
    return first.then((answer) =>
      payIfAsked(
        request,
        answer,
        async () => answer.body.toString("utf8"),
        (payment) => sendWhole(request, state, limit, accept, payment),
      ),
    );
  }

  /** A paid provider's 402: pays its challenge, then asks once more with the credential. Any other answer as is. */
  async function payIfAsked<R extends { status: number; headers: UpstreamHttpResponse["headers"] }>(
    request: UpstreamHttpRequest,
    first: R,
    challengeBody: () => Promise<string>,
    again: (payment: Record<string, string>) => Promise<R>,
  ): Promise<R> {
    const pay = request.endpoint.pay;
    if (first.status !== 402 || !pay) return first;
    const { origin, path } = resolveUrl(request.endpoint, request.path);
    const body = await challengeBody();
    const challengeHeaders = new Headers();
    for (const [name, value] of Object.entries(first.headers)) {
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) challengeHeaders.append(name, v);
    }
    let payment: Record<string, string>;
    try {
      payment = await pay({ url: origin + path, headers: challengeHeaders, body });
    } catch (error) {
      const { provider } = request.endpoint;
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new ProviderError({
        kind: "upstream",
        code: "upstream_payment_failed",
        message: `${provider}: could not pay the upstream's 402: ${reason}`,
        provider,
        retryable: true,
        upstreamStatus: 402,
        cause: error,
      });
    }
    return again(payment);
  }

  /**
   * What undici is asked, shared by both ways of reading the answer: a promise only when the
   * endpoint's key comes from a supplier, so that a plain call is dispatched in the caller's turn.
   */
  function dispatchOptions(
    request: UpstreamHttpRequest,
    state: CallState,
    accept?: string,
    payment?: Record<string, string>,
  ): DispatchOptions | Promise<DispatchOptions> {
    const supplier = request.endpoint.apiKeySupplier;
    if (!supplier) return optionsFor(request, request.endpoint, state, accept, payment);
    return withSuppliedKey(request.endpoint, supplier).then((endpoint) => {
      state.endpoint = endpoint; // errors redact the key actually sent
      return optionsFor(request, endpoint, state, accept, payment);
    });
  }

  function optionsFor(
    request: UpstreamHttpRequest,
    endpoint: ProviderEndpoint,
    state: CallState,
    accept?: string,
    payment?: Record<string, string>,
  ): DispatchOptions {
    const { origin, path } = resolveUrl(endpoint, request.path);
    const headers = buildHeaders(endpoint, request.headers);
    if (payment) Object.assign(headers, lowercase(payment));
    if (accept && headers.accept === undefined) headers.accept = accept;
    // Parts are written one by one; their length is said up front, so they go out as one body, not chunked.
    if (isParts(request.body)) headers["content-length"] = String(request.body.reduce((sum, part) => sum + part.byteLength, 0));
    return {
      origin,
      path,
      method: request.method ?? "POST",
      headers,
      // undici writes any iterable body (its Dispatcher docs), though its types list only single-buffer bodies.
      body: (request.body ?? null) as string | Uint8Array | null,
      headersTimeout: state.timeoutMs > 0 && Number.isFinite(state.timeoutMs) ? state.timeoutMs : 0,
      bodyTimeout: request.idleTimeoutMs ?? idleTimeoutMs,
    };
  }

  async function send(request: UpstreamHttpRequest, state: CallState, accept?: string, payment?: Record<string, string>): Promise<UpstreamHttpResponse> {
    const options = await dispatchOptions(request, state, accept, payment);
    try {
      const res = await agent.request({ ...options, signal: state.signal ?? null });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (error) {
      throw transportError(error, state);
    }
  }

  /**
   * One request whose answer is collected by a dispatch handler: no readable stream, async
   * iterator or request handler of undici's per call (measured: ~14 µs less CPU per call than
   * reading `agent.request`'s body). The caller's signal aborts it like `send`'s.
   */
  function sendWhole(request: UpstreamHttpRequest, state: CallState, limit: number, accept?: string, payment?: Record<string, string>): Promise<WholeResponse> {
    let options: DispatchOptions | Promise<DispatchOptions>;
    try {
      options = dispatchOptions(request, state, accept, payment);
    } catch (error) {
      return Promise.reject(error);
    }
    // Dispatched now, not after an await: the fast path's upstream write leaves in the request's own turn.
    if (!(options instanceof Promise)) return dispatchWhole(options, request, state, limit);
    return options.then((ready) => dispatchWhole(ready, request, state, limit));
  }

  function dispatchWhole(options: DispatchOptions, request: UpstreamHttpRequest, state: CallState, limit: number): Promise<WholeResponse> {
    const { signal } = state;
    return new Promise<WholeResponse>((resolve, reject) => {
      let settled = false;
      let status = 0;
      let headers: UpstreamHttpResponse["headers"] = {};
      let cap = limit;
      const chunks: Buffer[] = [];
      let size = 0;
      let controller: Dispatcher.DispatchController | undefined;
      let listening = false;
      const onAbort = () => {
        if (!settled) controller?.abort(signal?.reason);
      };
      const settle = (error: unknown, response?: WholeResponse) => {
        if (settled) return;
        settled = true;
        // The signal is let go of on the next tick: the answer goes out first (see below).
        if (listening) process.nextTick(stopListening, signal, onAbort);
        if (response) resolve(response);
        else reject(transportError(error, state));
      };
      const whole = (truncated: boolean): WholeResponse => {
        const joined = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        return { status, headers, body: truncated ? joined.subarray(0, cap) : joined, truncated, sentKey: state.endpoint.apiKey };
      };
      if (signal?.aborted) return settle(signal.reason);
      try {
        agent.dispatch(options, {
          onRequestStart(c) {
            controller = c;
            if (signal?.aborted) c.abort(signal.reason);
          },
          onResponseStart(_c, statusCode, responseHeaders) {
            status = statusCode;
            headers = responseHeaders as UpstreamHttpResponse["headers"];
            if (statusCode < 200 || statusCode >= 300) cap = MAX_ERROR_BODY;
          },
          onResponseData(c, chunk) {
            if (settled) return;
            chunks.push(chunk);
            size += chunk.length;
            if (size <= cap) return;
            if (status >= 200 && status < 300) {
              settle(answerTooLarge(request.endpoint, limit));
            } else {
              settle(undefined, whole(true)); // an error body: its start is enough, the rest is not read
            }
            c.abort(new Error("answer no longer read"));
          },
          onResponseEnd() {
            settle(undefined, whole(false));
          },
          onResponseError(_c, error) {
            settle(error);
          },
        });
      } catch (error) {
        settle(error);
      }
      // Listened to only now: on a free connection the dispatch has written the request already, and
      // an EventTarget listener costs several µs on an idle core, spent here while the upstream works.
      // Nothing can abort in between (no other code runs), and onRequestStart checks for an earlier abort.
      if (signal && !settled) {
        signal.addEventListener("abort", onAbort);
        listening = true;
      }
    });
  }

  const idle = (opts: SendOptions): { idleTimeoutMs?: number } => (opts.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: opts.idleTimeoutMs });

  function newState(endpoint: ProviderEndpoint, signal: AbortSignal | undefined, timeoutMs: number | undefined): CallState {
    const state: CallState = { endpoint, timeoutMs: timeoutMs ?? defaultTimeoutMs, yielded: 0 };
    if (signal) state.signal = signal;
    return state;
  }

  /** The events of each upstream read, parsed and decoded in one step (one async hop per read). */
  async function* decodeBatches(codec: UpstreamCodec, body: ResponseBody, state: CallState): AsyncGenerator<StreamEvent[]> {
    const decoder = new EventStreamDecoder(codec);
    const reader = new ChunkReader(body);
    try {
      for (;;) {
        const chunk = reader.read() ?? (await reader.next());
        if (chunk === undefined) break;
        const events = decoder.feed(chunk);
        state.yielded += events.length;
        if (events.length > 0) yield events;
      }
      const events = decoder.end();
      state.yielded += events.length;
      if (events.length > 0) yield events;
    } catch (error) {
      throw transportError(error, state);
    } finally {
      reader.close();
      // Breaking out early must free the socket (the upstream sees the connection close).
      if (!body.destroyed) body.destroy();
    }
  }

  /** Sends a stream call; resolves with the 2xx answer's body once its head came (see ProviderClient.openStream). */
  async function openEventStream(
    codec: UpstreamCodec,
    endpoint: ProviderEndpoint,
    request: CanonicalRequest,
    opts: SendOptions,
    state: CallState,
  ): Promise<ResponseBody> {
    const upstream = codec.encodeRequest({ ...request, stream: true }, encodeOptions(opts));
    const response = await open(
      { endpoint, path: upstream.path, body: JSON.stringify(upstream.body), headers: { ...upstream.headers, ...opts.headers }, ...idle(opts) },
      state,
      "text/event-stream",
    );
    if (response.status < 200 || response.status >= 300) throw await upstreamError(codec, state.endpoint, response);
    // From here the idle timeout guards a stalled stream.
    return response.body;
  }

  async function streamBatches(
    codec: UpstreamCodec,
    endpoint: ProviderEndpoint,
    request: CanonicalRequest,
    opts: SendOptions,
  ): Promise<AsyncIterable<StreamEvent[]>> {
    const state = newState(endpoint, opts.signal, opts.timeoutMs);
    return decodeBatches(codec, await openEventStream(codec, endpoint, request, opts, state), state);
  }

  return {
    async request(request) {
      const state = newState(request.endpoint, request.signal, request.timeoutMs);
      const response = await open(request, state);
      return { ...response, sentKey: state.endpoint.apiKey };
    },

    requestWhole(request, limit = defaultMaxResponseBytes) {
      return openWhole(request, newState(request.endpoint, request.signal, request.timeoutMs), limit);
    },

    sseEvents: (body, signal) => sseEvents(body, signal),

    async send(codec, endpoint, request, opts) {
      const upstream = codec.encodeRequest({ ...request, stream: false }, encodeOptions(opts));
      const state = newState(endpoint, opts.signal, opts.timeoutMs);
      const response = await openWhole(
        { endpoint, path: upstream.path, body: JSON.stringify(upstream.body), headers: { ...upstream.headers, ...opts.headers }, ...idle(opts) },
        state,
        opts.maxResponseBytes ?? defaultMaxResponseBytes,
        "application/json",
      );
      const text = response.body.toString("utf8");
      if (response.status < 200 || response.status >= 300) throw upstreamErrorFrom(codec, state.endpoint, response, { text, truncated: response.truncated });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw transportError(new BitrouterError({ kind: "upstream", message: `the body is not JSON (${(error as Error).message})` }), state);
      }
      try {
        return codec.decodeResponse(json);
      } catch (error) {
        throw transportError(error, state);
      }
    },

    async stream(codec, endpoint, request, opts) {
      return flatten(await streamBatches(codec, endpoint, request, opts));
    },

    streamBatches,

    openStream: (codec, endpoint, request, opts) => openEventStream(codec, endpoint, request, opts, newState(endpoint, opts.signal, opts.timeoutMs)),

    async close() {
      await agent.destroy();
    },
  };
}

async function* flatten<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}

/**
 * An upstream's event-stream bytes to canonical events, chunk by chunk, with no I/O: SSE parsing
 * and the codec's stream decoder in one step. The client's own streams decode with it, and so does
 * a caller of `openStream` that pushes the body's chunks through as they come.
 */
export class EventStreamDecoder {
  readonly #decoder: StreamDecoder;
  readonly #parser = new SseParser();
  /** SSE events seen so far. */
  #received = 0;

  constructor(codec: UpstreamCodec) {
    this.#decoder = codec.createStreamDecoder();
  }

  /** The events this chunk completed (often none). Throws on an event the codec cannot read or one too large. */
  feed(chunk: Uint8Array): StreamEvent[] {
    return this.#decode(this.#parser.feed(chunk));
  }

  /** The body ended cleanly: the events left. A 2xx "stream" without a single event (an HTML page, a JSON body, nothing) is no answer: throws. */
  end(): StreamEvent[] {
    const last = this.#decode(this.#parser.end());
    if (this.#received === 0) throw new BitrouterError({ kind: "upstream", message: NO_EVENTS });
    const owed = this.#decoder.end();
    // Not appended in place: `last` may be the codec's own list.
    return owed.length === 0 ? last : [...last, ...owed];
  }

  #decode(batch: SseEvent[]): StreamEvent[] {
    this.#received += batch.length;
    // A chunk usually completes one event: its decoded list is the answer as it is.
    if (batch.length === 1) return this.#decoder.decode(batch[0]!);
    const events: StreamEvent[] = [];
    for (const sse of batch) for (const event of this.#decoder.decode(sse)) events.push(event);
    return events;
  }
}

/**
 * A body's chunks as they arrive, read in place of `for await (… of body)`: the Readable's own
 * async iterator is an async generator, a second promise hop per chunk under the stream decoder's.
 * `read()` takes what is buffered now (undefined when nothing is); `next()` waits for the next
 * chunk, resolves undefined at the end, and rejects with the body's error (an abort, the idle
 * timeout, a connection cut before the end).
 */
class ChunkReader {
  #wake: (() => void) | undefined;
  #ended = false;
  #error: Error | undefined;
  readonly #onReadable = (): void => this.#notify();

  constructor(private readonly body: ResponseBody) {
    body.on("readable", this.#onReadable);
    // Watched for the body's whole life, not only while read: destroying a body that did not end
    // (a consumer that stopped early) emits an error a tick later, which must find a listener.
    finished(body, (error) => {
      if (error) this.#error = error;
      else this.#ended = true;
      this.#notify();
    });
  }

  read(): Uint8Array | undefined {
    const chunk = this.body.read() as Uint8Array | null;
    return chunk ?? undefined;
  }

  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const chunk = this.read();
      if (chunk !== undefined) return chunk;
      if (this.#error) throw this.#error;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  close(): void {
    this.body.off("readable", this.#onReadable);
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
