import type { CanonicalRequest, CanonicalResponse, ErrorInfo, Protocol, StreamEvent, Usage } from "@bitrouter/core";
import type { Codec, UpstreamPayer } from "@bitrouter/providers";
import { BitrouterError, newRequestId } from "@bitrouter/core";
import { CODECS, DEFAULT_MAX_RESPONSE_BYTES, PROTOCOL_DESCRIPTORS, codecTable, createProviderClient } from "@bitrouter/providers";
import { Balancer } from "./balancer.js";
import { DynamicRoutes } from "./dynamic-routes.js";
import type { RequestContext, RouterHook } from "@bitrouter/core";
import { costMicroUsd } from "./cost.js";
import { countTokens } from "./count-tokens.js";
import { callerProtocol, callerRequestId, matchPath, readCredential } from "./http.js";
import type { RouterDeps, StreamSink } from "./lifecycle.js";
import { RequestLifecycle } from "./lifecycle.js";
import type { InboundRequest, InboundResult } from "./pipeline.js";
import { handleInbound } from "./pipeline.js";
import type { ModelListing, RouteTarget } from "./table.js";
import type { ResolvedConfig } from "@bitrouter/config";
import { RoutingTable } from "./table.js";
import type { RoutesConfig } from "./router-config.js";
import { splitConfig } from "./router-config.js";
import type { UpstreamClient } from "./upstream.js";

export interface RouterOptions {
  /** Hooks around each request, in order (auth first, then guardrails, metering last). */
  hooks?: RouterHook[];
  /** Routes added at runtime; pass the same object to the next router on a hot reload. */
  dynamicRoutes?: DynamicRoutes;
  /** Outbound HTTP client; defaults to a new pooled client (closed by router.close()). */
  client?: UpstreamClient;
  /** Load-balancer state; pass the same object across reloads to keep round-robin position. */
  balancer?: Balancer;
  /** Overall deadline per request, failover attempts included. Default 10 minutes. */
  requestTimeoutMs?: number;
  /** Per attempt: the longest wait for a stream's response head before failing over. Default 60 s (capped by requestTimeoutMs). */
  firstByteTimeoutMs?: number;
  /** Largest non-stream upstream answer read, in bytes. Default 64 MiB. */
  maxResponseBytes?: number;
  /** Codec overrides (e.g. a custom protocol variant); defaults to the built-in four. */
  codecs?: Partial<Record<Protocol, Codec>>;
  /** Creates request ids; defaults to time-ordered UUIDs (version 7). */
  requestId?: () => string;
  /** Pays the 402 answers of providers with `auth: {type: mpp}` (the operator's wallet). */
  upstreamPayer?: (provider: string) => UpstreamPayer | undefined;
  /** Supplies the bearer token of providers with `auth: {type: wallet}` (signed by the operator's account). */
  walletToken?: (provider: string) => (() => Promise<string>) | undefined;
}

export interface Router {
  readonly table: RoutingTable;
  readonly dynamicRoutes: DynamicRoutes;
  /** Handles one inbound request already split from its transport (the server's entry point). */
  handle(inbound: InboundRequest, ctx?: RequestContext): Promise<InboundResult>;
  /** Web-standard handler for all four inbound protocols, `GET /v1/models` and `GET /health`. */
  fetch(request: Request): Promise<Response>;
  /** Canonical, non-streaming call through the routing table (failover, hooks and metering included). */
  generate(request: Omit<CanonicalRequest, "stream"> & { stream?: false }, options?: CallOptions): Promise<CanonicalResponse>;
  /**
   * Canonical streaming call; resolves once the first content event arrived (failover happens before).
   * A failure after that ends the stream with an `error` event, as on the HTTP path.
   */
  stream(request: Omit<CanonicalRequest, "stream"> & { stream?: true }, options?: CallOptions): Promise<AsyncIterable<StreamEvent>>;
  /** Every model name callers can use now, with metadata. */
  listModels(): ModelListing[];
  /** The OpenAI-style body of GET /v1/models. */
  modelsBody(): { object: "list"; data: Array<Record<string, unknown>> };
  /** Token counting (Anthropic count_tokens, Gemini countTokens): by the upstream when it speaks the caller's protocol, else estimated. */
  countTokens(inbound: InboundRequest): Promise<InboundResult>;
  /** Releases the HTTP pool if the router created it. */
  close(): Promise<void>;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Identifies the caller to hooks (e.g. an API key for an auth hook). */
  credential?: string;
  requestId?: string;
}

const TEN_MINUTES = 10 * 60_000;
const ONE_MINUTE = 60_000;

/** createRouter's configuration as a camelCase object: the routes and, beside them, any RouterOptions. */
export interface RouterConfig extends RoutesConfig, RouterOptions {}

/**
 * Builds a router from a camelCase configuration object (`{ providers, models, hooks, requestTimeoutMs }`),
 * YAML text in bitrouter.yaml's format, or a configuration resolved by @bitrouter/config
 * (`loadConfig(...).config`). `options` add to (and override) those a RouterConfig carries.
 */
export function createRouter(input: RouterConfig | ResolvedConfig | string, extraOptions: RouterOptions = {}): Router {
  const split = splitConfig<RouterOptions>(input);
  const config = split.config;
  const options: RouterOptions = { ...split.options, ...extraOptions };
  const dynamicRoutes = options.dynamicRoutes ?? new DynamicRoutes();
  const table = new RoutingTable(config, dynamicRoutes, options.upstreamPayer, options.walletToken);
  const ownsClient = options.client === undefined;
  const client = options.client ?? createProviderClient();
  const hooks = options.hooks ?? [];
  const newId = options.requestId ?? newRequestId;
  const deps: RouterDeps = {
    resolver: table,
    hooks,
    client,
    balancer: options.balancer ?? new Balancer(),
    codecs: codecTable(config.protocols, options.codecs),
    requestTimeoutMs: options.requestTimeoutMs ?? TEN_MINUTES,
    firstByteTimeoutMs: Math.min(options.firstByteTimeoutMs ?? ONE_MINUTE, options.requestTimeoutMs ?? TEN_MINUTES),
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    cost: (target: RouteTarget, usage: Usage) => (target.pricing ? costMicroUsd(target.pricing, usage) : undefined),
  };

  const canonicalContext = (request: CanonicalRequest, call: CallOptions | undefined, stream: boolean): RequestContext => ({
    requestId: call?.requestId ?? newId(),
    inboundProtocol: "canonical",
    startedAt: Date.now(),
    model: request.model,
    stream,
    ...(call?.credential === undefined ? {} : { credential: call.credential }),
    headers: new Headers(),
    counters: {},
    state: new Map(),
  });

  const modelsBody = () => ({ object: "list" as const, data: table.listModels().map(openaiModel) });

  const router: Router = {
    table,
    dynamicRoutes,
    handle: (inbound, ctx) => handleInbound(deps, inbound, ctx),

    async fetch(request) {
      const url = new URL(request.url);
      const match = matchPath(request.method, url.pathname);
      // Our own id for every request; the answer echoes the caller's x-request-id when it sent a sane one.
      const requestId = newId();
      const replyId = callerRequestId(request.headers) ?? requestId;
      const answer = (status: number, body: unknown) => Response.json(body, { status, headers: { "x-request-id": replyId } });
      if (!match) return answer(...notFound(callerProtocol(url.pathname, request.headers), `no route for ${request.method} ${url.pathname}`));
      if (match.kind === "health") return answer(200, { status: "ok" });
      if (match.kind === "models") {
        const list = match.protocol === undefined ? undefined : PROTOCOL_DESCRIPTORS[match.protocol].modelShape?.list;
        return answer(200, list ? list(table.listModels()) : modelsBody());
      }
      if (match.kind === "model") {
        const protocol = match.protocol ?? callerProtocol(url.pathname, request.headers);
        const model = table.listModels().find((m) => m.id === match.id);
        if (!model) return answer(...notFound(protocol, `unknown model '${match.id}'; GET /v1/models lists every model name`));
        return answer(200, modelObject(protocol, model));
      }
      const credential = readCredential(request.headers, url);
      const inbound: InboundRequest = {
        protocol: match.protocol,
        body: new Uint8Array(await request.arrayBuffer()),
        headers: request.headers,
        requestId,
        signal: request.signal,
        ...(match.model === undefined ? {} : { pathModel: match.model }),
        ...(match.kind === "inference" && match.stream !== undefined ? { pathStream: match.stream } : {}),
        ...(credential === undefined ? {} : { credential }),
        ...(match.invalid === undefined ? {} : { refusal: { kind: "invalid_request", status: 400, message: match.invalid } }),
      };
      const result = match.kind === "count_tokens" ? await countTokens(deps, inbound) : await handleInbound(deps, inbound);
      const headers = { ...result.headers, "x-request-id": replyId };
      if (result.type === "json") return new Response(result.body, { status: result.status, headers });
      return new Response(toReadableStream(result.body), { status: result.status, headers });
    },

    async generate(request, call) {
      const canonical: CanonicalRequest = { ...request, stream: false };
      const lifecycle = new RequestLifecycle(deps, canonicalContext(canonical, call, false), call?.signal);
      try {
        await lifecycle.begin();
        const { response, target } = await lifecycle.tryTargets(async (target) => {
          const response = await lifecycle.generate(target, await lifecycle.prepare(canonical, target));
          return { response, target };
        });
        lifecycle.complete({ status: 200, usage: response.usage, target });
        return response;
      } catch (error) {
        throw asCallerError(error, lifecycle.fail(error));
      }
    },

    async stream(request, call) {
      const canonical: CanonicalRequest = { ...request, stream: true };
      const lifecycle = new RequestLifecycle(deps, canonicalContext(canonical, call, true), call?.signal);
      try {
        await lifecycle.begin();
        const batches = await lifecycle.tryTargets(async (target) => lifecycle.stream(target, await lifecycle.prepare(canonical, target), AS_EVENTS));
        return flatten(batches);
      } catch (error) {
        throw asCallerError(error, lifecycle.fail(error));
      }
    },

    listModels: () => table.listModels(),
    modelsBody,
    countTokens: (inbound) => countTokens(deps, inbound),

    async close() {
      if (ownsClient) await client.close();
    },
  };
  return router;
}

/** A model listing in OpenAI's shape (with BitRouter's extra metadata). */
export function openaiModel(m: ModelListing): Record<string, unknown> {
  return {
    id: m.id,
    object: "model",
    created: 0,
    owned_by: m.provider ?? "bitrouter",
    kind: m.kind,
    ...(m.name ? { name: m.name } : {}),
    ...(m.description ? { description: m.description } : {}),
    ...(m.maxInputTokens ? { context_length: m.maxInputTokens } : {}),
    ...(m.maxOutputTokens ? { max_output_tokens: m.maxOutputTokens } : {}),
    ...(m.inputModalities ? { input_modalities: m.inputModalities } : {}),
    ...(m.outputModalities ? { output_modalities: m.outputModalities } : {}),
    ...(m.pricing ? { pricing: m.pricing } : {}),
    ...(m.endpoints ? { endpoints: m.endpoints } : {}),
  };
}

/** A model in the caller's protocol's shape: its descriptor's, else OpenAI's. */
function modelObject(protocol: Protocol, m: ModelListing): Record<string, unknown> {
  return PROTOCOL_DESCRIPTORS[protocol].modelShape?.model(m) ?? openaiModel(m);
}

/** A 404 in the caller's protocol shape (status and body). */
export function notFound(protocol: Protocol, message: string): [number, unknown] {
  const { status, body } = CODECS[protocol].encodeError({ kind: "not_found", status: 404, message });
  return [status, body];
}

/** The error a library caller gets: the original when it says the same, else the one the lifecycle recorded (e.g. 499 when the caller left). */
function asCallerError(error: unknown, info: ErrorInfo): BitrouterError {
  return error instanceof BitrouterError && error.status === info.status && error.kind === info.kind ? error : new BitrouterError(info);
}

/** The library's stream sink: the events as they are (then flattened). */
const AS_EVENTS: StreamSink<StreamEvent[]> = { batch: (events) => (events.length > 0 ? events : undefined) };

/** A held stream's event batches as single events; stopping early reaches the lifecycle's completion through return(). */
async function* flatten(batches: AsyncIterable<StreamEvent[]>): AsyncGenerator<StreamEvent> {
  for await (const batch of batches) yield* batch;
}

/** A pull-based ReadableStream over an async iterable (cancel propagates to the iterator). */
export function toReadableStream(source: AsyncIterable<string | Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(typeof next.value === "string" ? encoder.encode(next.value) : next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
