/**
 * OpenTelemetry traces, opt-in: one span per request, a child span per upstream attempt, with the
 * GenAI semantic-convention attributes, exported over OTLP/HTTP. Off (the default), none of the
 * OpenTelemetry packages is even loaded and no hook is installed.
 */
import type { Span, Tracer } from "@opentelemetry/api";
import type { TracingConfig } from "@bitrouter/config";
import type { CompletionRecord, RequestContext, RouterHook } from "@bitrouter/core";
import { importOptional } from "./optional.js";

export interface Tracing {
  /** Goes first among the hooks, so that requests refused by auth are traced too. */
  hook: RouterHook;
  /** Where spans go (for the startup log). */
  endpoint: string;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingSettings {
  /** The OTLP/HTTP traces URL. */
  endpoint: string;
  serviceName: string;
}

/** OTLP/HTTP's default, and where the generic OTEL_EXPORTER_OTLP_ENDPOINT puts traces. */
const DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces";

/**
 * Whether tracing is on, and where it exports: `tracing.enabled` in bitrouter.yaml decides when
 * set; otherwise an OTLP endpoint in the standard variables turns it on (and OTEL_SDK_DISABLED or
 * OTEL_TRACES_EXPORTER=none off).
 */
export function tracingSettings(config: TracingConfig | undefined, env: Record<string, string | undefined>): TracingSettings | undefined {
  const fromEnv = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const disabledByEnv = env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none";
  const enabled = config?.enabled ?? (config?.endpoint !== undefined || (fromEnv !== undefined && fromEnv !== "" && !disabledByEnv));
  if (!enabled) return undefined;
  const generic = env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces` : undefined;
  return {
    endpoint: config?.endpoint ?? (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || generic || DEFAULT_ENDPOINT),
    serviceName: config?.service_name ?? (env.OTEL_SERVICE_NAME || "bitrouter"),
  };
}

/** What one request carries between the hook calls (in ctx.state). */
interface RequestSpans {
  request: Span;
  attempt?: Span;
}

const STATE = "tracing";
// What turned tracing on, for the error when its packages are not installed.
const TRACING_FIELD = "tracing (or the OTEL_EXPORTER_OTLP_* variables)";
const OTEL_PACKAGES = "@opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/exporter-trace-otlp-http @opentelemetry/resources";

export async function startTracing(settings: TracingSettings): Promise<Tracing> {
  // Loaded only now, and optional peer dependencies: a server without tracing never installs or loads them.
  const [api, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    importOptional("@opentelemetry/api", () => import("@opentelemetry/api"), TRACING_FIELD, OTEL_PACKAGES),
    importOptional("@opentelemetry/sdk-trace-base", () => import("@opentelemetry/sdk-trace-base"), TRACING_FIELD, OTEL_PACKAGES),
    importOptional("@opentelemetry/exporter-trace-otlp-http", () => import("@opentelemetry/exporter-trace-otlp-http"), TRACING_FIELD, OTEL_PACKAGES),
    importOptional("@opentelemetry/resources", () => import("@opentelemetry/resources"), TRACING_FIELD, OTEL_PACKAGES),
  ]);
  const exporter = new OTLPTraceExporter({ url: settings.endpoint });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": settings.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer: Tracer = provider.getTracer("bitrouter");
  const { SpanKind, SpanStatusCode } = api;

  const spansOf = (ctx: RequestContext) => ctx.state.get(STATE) as RequestSpans | undefined;

  const requestSpan = (ctx: RequestContext): RequestSpans => {
    const spans: RequestSpans = {
      request: tracer.startSpan(`chat ${ctx.model}`, {
        kind: SpanKind.SERVER,
        startTime: ctx.startedAt,
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.request.model": ctx.model,
          "bitrouter.request_id": ctx.requestId,
          "bitrouter.inbound_protocol": ctx.inboundProtocol,
          "bitrouter.stream": ctx.stream,
        },
      }),
    };
    ctx.state.set(STATE, spans);
    return spans;
  };

  const endAttempt = (span: Span, record: CompletionRecord | undefined) => {
    if (record === undefined) {
      span.setAttribute("error.type", "failed_over");
      span.setStatus({ code: SpanStatusCode.ERROR, message: "the next endpoint was tried" });
    } else {
      setOutcome(span, record);
    }
    span.end();
  };

  const setOutcome = (span: Span, r: CompletionRecord) => {
    span.setAttribute("http.response.status_code", r.status);
    if (r.modelId !== undefined) span.setAttribute("gen_ai.response.model", r.modelId);
    if (r.usage?.inputTokens !== undefined) span.setAttribute("gen_ai.usage.input_tokens", r.usage.inputTokens);
    if (r.usage?.outputTokens !== undefined) span.setAttribute("gen_ai.usage.output_tokens", r.usage.outputTokens);
    if (r.errorKind || r.status >= 400) {
      span.setAttribute("error.type", r.errorKind ?? String(r.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  };

  const hook: RouterHook = {
    name: "tracing",
    onRequest(ctx) {
      requestSpan(ctx);
    },
    onAttempt(ctx) {
      const spans = spansOf(ctx) ?? requestSpan(ctx);
      if (spans.attempt) endAttempt(spans.attempt, undefined);
      const target = ctx.target;
      spans.attempt = tracer.startSpan(
        `chat ${target?.modelId ?? ctx.model}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "gen_ai.operation.name": "chat",
            ...(target
              ? {
                  "gen_ai.request.model": target.modelId,
                  "gen_ai.provider.name": target.provider,
                  "gen_ai.system": target.provider,
                  "bitrouter.endpoint_index": target.endpointIndex,
                }
              : {}),
          },
        },
        api.trace.setSpan(api.context.active(), spans.request),
      );
    },
    onComplete(record, ctx) {
      const spans = spansOf(ctx) ?? requestSpan(ctx);
      if (spans.attempt) endAttempt(spans.attempt, record);
      const span = spans.request;
      span.setAttribute("bitrouter.route", record.route);
      span.setAttribute("bitrouter.attempts", record.attempts);
      if (record.provider !== undefined) span.setAttribute("gen_ai.provider.name", record.provider);
      if (record.costMicroUsd !== undefined) span.setAttribute("bitrouter.cost_micro_usd", record.costMicroUsd);
      if (record.principal?.keyId !== undefined) span.setAttribute("bitrouter.key_id", record.principal.keyId);
      setOutcome(span, record);
      span.end(record.startedAt + record.latencyMs);
      ctx.state.delete(STATE);
    },
  };

  return {
    hook,
    endpoint: settings.endpoint,
    shutdown: () => provider.shutdown(),
  };
}
