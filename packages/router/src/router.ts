import type { CanonicalRequest, CanonicalResponse, Protocol, StreamEvent, Usage } from "@bitrouter/core";
import type { Codec, UpstreamPayer } from "@bitrouter/providers";
import { BitrouterError, toErrorInfo } from "@bitrouter/core";
import { CODECS, DEFAULT_MAX_RESPONSE_BYTES, codecTable, createProviderClient } from "@bitrouter/providers";
import { costMicroUsd } from "@bitrouter/config";
import { Balancer } from "./balancer.js";
import { DynamicRoutes } from "./dynamic-routes.js";
import type { RequestContext, RouterHook } from "@bitrouter/core";
import { countTokens } from "./count-tokens.js";
import { fitRequest } from "./limits.js";
import { callerProtocol, matchPath, readCredential } from "./http.js";
import type { InboundRequest, InboundResult, PipelineDeps } from "./pipeline.js";
import { Deadline, applyStreamHooks, beforeCommit, handleInbound, isContentEvent, reportCompletion, withFailover } from "./pipeline.js";
import type { ModelListing, RouteTarget } from "./table.js";
import type { ResolvedConfig } from "@bitrouter/config";
import { RoutingTable } from "./table.js";
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
  /** Creates request ids; defaults to random UUIDs. */
  requestId?: () => string;
  /** Pays the 402 answers of providers with `auth: {type: mpp}` (the operator's wallet). */
  upstreamPayer?: (provider: string) => UpstreamPayer | undefined;
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
  /** Canonical streaming call; resolves once the first content event arrived (failover happens before). */
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

/**
 * Builds a router from a resolved configuration (`loadConfig(...).config` from @bitrouter/config,
 * or any object with `providers` and `models` in bitrouter.yaml's shape).
 */
export function createRouter(config: ResolvedConfig, options: RouterOptions = {}): Router {
  const dynamicRoutes = options.dynamicRoutes ?? new DynamicRoutes();
  const table = new RoutingTable(config, dynamicRoutes, options.upstreamPayer);
  const ownsClient = options.client === undefined;
  const client = options.client ?? createProviderClient();
  const hooks = options.hooks ?? [];
  const newId = options.requestId ?? (() => crypto.randomUUID());
  const deps: PipelineDeps = {
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
      const requestId = request.headers.get("x-request-id") ?? newId();
      const answer = (status: number, body: unknown) => Response.json(body, { status, headers: { "x-request-id": requestId } });
      if (!match) return answer(...notFound(callerProtocol(url.pathname, request.headers), `no route for ${request.method} ${url.pathname}`));
      if (match.kind === "health") return answer(200, { status: "ok" });
      if (match.kind === "models") return answer(200, match.protocol === "google" ? { models: table.listModels().map(googleModel) } : modelsBody());
      if (match.kind === "model") {
        const protocol = match.protocol ?? callerProtocol(url.pathname, request.headers);
        const model = table.listModels().find((m) => m.id === match.id);
        if (!model) return answer(...notFound(protocol, `unknown model '${match.id}'; GET /v1/models lists every model name`));
        return answer(200, protocol === "google" ? googleModel(model) : protocol === "anthropic" ? anthropicModel(model) : openaiModel(model));
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
      const headers = { ...result.headers, "x-request-id": requestId };
      if (result.type === "json") return new Response(result.body, { status: result.status, headers });
      return new Response(toReadableStream(result.body), { status: result.status, headers });
    },

    async generate(request, call) {
      const canonical: CanonicalRequest = { ...request, stream: false };
      const ctx = canonicalContext(canonical, call, false);
      const deadline = new Deadline(deps.requestTimeoutMs, call?.signal);
      const signal = deadline.signal;
      let attempts = 0;
      try {
        for (const hook of hooks) await hook.onRequest?.(ctx);
        const route = table.resolve(canonical.model);
        const { response, target } = await withFailover(deps, route, ctx, signal, async (target) => {
          attempts += 1;
          const fitted = fitRequest(await beforeDispatch(hooks, ctx, canonical), target);
          if (fitted.changes.length > 0) ctx.adjusted = fitted.changes;
          const prepared = fitted.value;
          const response = await client.send(deps.codecs[target.endpoint.protocol], target.endpoint, prepared, {
            ...callOptions(target, signal),
            maxResponseBytes: deps.maxResponseBytes,
          });
          return { response, target };
        });
        let final = response;
        for (const hook of hooks) final = (await hook.onResponse?.(ctx, final)) ?? final;
        await beforeCommit(hooks, ctx);
        reportCompletion(deps, ctx, route.name, attempts, { status: 200, usage: final.usage, target });
        return final;
      } catch (error) {
        const info = toErrorInfo(error);
        reportCompletion(deps, ctx, ctx.model, attempts, { status: info.status, errorKind: info.kind });
        throw error instanceof BitrouterError ? error : new BitrouterError(info);
      } finally {
        deadline.clear();
      }
    },

    async stream(request, call) {
      const canonical: CanonicalRequest = { ...request, stream: true };
      const ctx = canonicalContext(canonical, call, true);
      const deadline = new Deadline(deps.requestTimeoutMs, call?.signal);
      const signal = deadline.signal;
      let attempts = 0;
      let routeName = canonical.model;
      try {
        for (const hook of hooks) await hook.onRequest?.(ctx);
        const route = table.resolve(canonical.model);
        routeName = route.name;
        const { head, rest, target } = await withFailover(deps, route, ctx, signal, async (target) => {
          attempts += 1;
          const fitted = fitRequest(await beforeDispatch(hooks, ctx, canonical), target);
          if (fitted.changes.length > 0) ctx.adjusted = fitted.changes;
          const prepared = fitted.value;
          const events = (
            await client.stream(deps.codecs[target.endpoint.protocol], target.endpoint, prepared, {
              ...callOptions(target, signal),
              timeoutMs: deps.firstByteTimeoutMs,
            })
          )[Symbol.asyncIterator]();
          const head: StreamEvent[] = [];
          for (;;) {
            const next = await events.next();
            if (next.done) break;
            if (next.value.type === "error") {
              await events.return?.();
              throw new BitrouterError(next.value.error);
            }
            head.push(next.value);
            if (isContentEvent(next.value)) break;
          }
          try {
            await beforeCommit(hooks, ctx);
          } catch (error) {
            await events.return?.();
            throw error;
          }
          return { head, rest: events, target };
        });
        return (async function* () {
          let usage: Usage | undefined;
          let errorKind: ReturnType<typeof toErrorInfo>["kind"] | undefined;
          let ended = false;
          try {
            const emit = function* (event: StreamEvent) {
              for (const e of applyStreamHooks(hooks, ctx, event)) {
                if (e.type === "usage") usage = e.usage;
                else if (e.type === "finish" && e.usage) usage = e.usage;
                if (e.type === "error") errorKind = e.error.kind;
                yield e;
              }
            };
            for (const event of head) yield* emit(event);
            for (;;) {
              const next = await rest.next();
              if (next.done) break;
              yield* emit(next.value);
            }
            ended = true;
          } catch (error) {
            errorKind = toErrorInfo(error).kind;
            ended = true;
            throw error;
          } finally {
            await rest.return?.();
            deadline.clear();
            // A consumer that stops reading early is a caller that went away (499), as on the HTTP path.
            const status = ended ? 200 : 499;
            if (!ended) errorKind = "invalid_request";
            reportCompletion(deps, ctx, routeName, attempts, { status, usage, target, ...(errorKind ? { errorKind } : {}) });
          }
        })();
      } catch (error) {
        deadline.clear();
        const info = toErrorInfo(error);
        reportCompletion(deps, ctx, routeName, attempts, { status: info.status, errorKind: info.kind });
        throw error instanceof BitrouterError ? error : new BitrouterError(info);
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

/** A model in Anthropic's shape (`GET /v1/models/{id}` with an `anthropic-version` header). */
export function anthropicModel(m: ModelListing): Record<string, unknown> {
  return { type: "model", id: m.id, display_name: m.name ?? m.id, created_at: "1970-01-01T00:00:00Z" };
}

/** A model in Google's shape (`GET /v1beta/models[/{id}]`). */
export function googleModel(m: ModelListing): Record<string, unknown> {
  return {
    name: `models/${m.id}`,
    displayName: m.name ?? m.id,
    ...(m.description ? { description: m.description } : {}),
    ...(m.maxInputTokens ? { inputTokenLimit: m.maxInputTokens } : {}),
    ...(m.maxOutputTokens ? { outputTokenLimit: m.maxOutputTokens } : {}),
    supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
  };
}

/** A 404 in the caller's protocol shape (status and body). */
export function notFound(protocol: Protocol, message: string): [number, unknown] {
  const { status, body } = CODECS[protocol].encodeError({ kind: "not_found", status: 404, message });
  return [status, body];
}

/** beforeDispatch hooks, per attempt (they may depend on ctx.target). */
async function beforeDispatch(hooks: readonly RouterHook[], ctx: RequestContext, request: CanonicalRequest): Promise<CanonicalRequest> {
  let prepared = request;
  for (const hook of hooks) prepared = (await hook.beforeDispatch?.(ctx, prepared)) ?? prepared;
  return prepared;
}

function callOptions(target: RouteTarget, signal: AbortSignal) {
  return {
    model: target.modelId,
    signal,
    ...(target.maxOutputTokens === undefined ? {} : { defaultMaxTokens: target.maxOutputTokens }),
    ...(target.maxTokensField === undefined ? {} : { maxTokensField: target.maxTokensField }),
  };
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
