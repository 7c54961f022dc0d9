/**
 * `GET /metrics`: the server's numbers in the Prometheus text format, for any scraper. Counters
 * and histograms are fed by a router hook (one CompletionRecord per request); gauges (in-flight
 * requests, ledger queue, upstream availability) are read from the runtime at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CompletionRecord, RouterHook } from "@bitrouter/core";

/** What the scrape reads from the running server. */
export interface MetricsSources {
  /** HTTP requests being served right now. */
  inflightRequests(): number;
  /** Each configured provider, and whether it can be routed to (an API base and a key). */
  providers(): { name: string; available: boolean }[];
  /** The ledger's write queue, when metering is on. */
  ledger?(): { queued: number; dropped: number; outage: boolean };
}

export interface Metrics {
  /** The hook that counts every completed request. */
  hook: RouterHook;
  contentType: string;
  /** The exposition text. */
  render(): Promise<string>;
}

/** Latency buckets (seconds): LLM calls run from tens of milliseconds to minutes. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320];
const TTFB_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40];

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: "bitrouter_requests_total",
    help: "Requests answered, by route, provider, model and HTTP status",
    labelNames: ["route", "provider", "model", "status"],
    registers,
  });
  const errors = new Counter({
    name: "bitrouter_request_errors_total",
    help: "Requests that failed, by error kind and the provider of the last attempt",
    labelNames: ["kind", "provider"],
    registers,
  });
  const duration = new Histogram({
    name: "bitrouter_request_duration_seconds",
    help: "Time from the request's arrival to the end of its answer (streams included)",
    labelNames: ["route", "provider", "model", "stream"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const ttfb = new Histogram({
    name: "bitrouter_time_to_first_byte_seconds",
    help: "Time from the request's arrival to the first byte of its answer",
    labelNames: ["route", "provider", "model", "stream"],
    buckets: TTFB_BUCKETS,
    registers,
  });
  const tokens = new Counter({
    name: "bitrouter_tokens_total",
    help: "Tokens reported by the providers, by direction (input, output)",
    labelNames: ["provider", "model", "key", "direction"],
    registers,
  });
  const spend = new Counter({
    name: "bitrouter_spend_usd_total",
    help: "Spend in USD from the catalog pricing, by provider, model and API key",
    labelNames: ["provider", "model", "key"],
    registers,
  });
  const failovers = new Counter({
    name: "bitrouter_failovers_total",
    help: "Endpoints given up on for the next one of the route (attempts beyond the first)",
    labelNames: ["route"],
    registers,
  });
  // Streams are counted by request id: a request refused before it is seen still completes once.
  const streams = new Set<string>();
  new Gauge({
    name: "bitrouter_inflight_streams",
    help: "Streaming answers in progress",
    registers,
    collect() {
      this.set(streams.size);
    },
  });
  new Gauge({
    name: "bitrouter_inflight_requests",
    help: "HTTP requests being served",
    registers,
    collect() {
      this.set(sources.inflightRequests());
    },
  });
  new Gauge({
    name: "bitrouter_upstream_available",
    help: "1 when the provider can be routed to (it has an API base and a key), else 0",
    labelNames: ["provider"],
    registers,
    collect() {
      this.reset(); // providers removed by a reload disappear
      for (const p of sources.providers()) this.set({ provider: p.name }, p.available ? 1 : 0);
    },
  });
  if (sources.ledger) {
    const ledger = sources.ledger;
    new Gauge({
      name: "bitrouter_ledger_queue_depth",
      help: "Ledger rows waiting to be written to the database",
      registers,
      collect() {
        this.set(ledger().queued);
      },
    });
    new Gauge({
      name: "bitrouter_ledger_dropped_rows",
      help: "Ledger rows lost since start (queue full during a database outage)",
      registers,
      collect() {
        this.set(ledger().dropped);
      },
    });
    new Gauge({
      name: "bitrouter_ledger_outage",
      help: "1 while the ledger database is unreachable",
      registers,
      collect() {
        this.set(ledger().outage ? 1 : 0);
      },
    });
  }

  const record = (r: CompletionRecord) => {
    streams.delete(r.requestId);
    const provider = r.provider ?? "none";
    const model = r.modelId ?? "none";
    const stream = String(r.stream);
    // A request that reached no endpoint (an unknown model) is not labelled with what the caller
    // typed: any string would make a new series.
    const route = r.provider === undefined ? "none" : r.route;
    requests.inc({ route, provider, model, status: String(r.status) });
    if (r.errorKind || r.status >= 400) errors.inc({ kind: r.errorKind ?? `http_${r.status}`, provider });
    duration.observe({ route, provider, model, stream }, r.latencyMs / 1000);
    if (r.ttfbMs !== undefined) ttfb.observe({ route, provider, model, stream }, r.ttfbMs / 1000);
    const key = r.principal?.keyId ?? "none";
    if (r.usage?.inputTokens) tokens.inc({ provider, model, key, direction: "input" }, r.usage.inputTokens);
    if (r.usage?.outputTokens) tokens.inc({ provider, model, key, direction: "output" }, r.usage.outputTokens);
    if (r.costMicroUsd) spend.inc({ provider, model, key }, r.costMicroUsd / 1_000_000);
    if (r.attempts > 1) failovers.inc({ route }, r.attempts - 1);
  };

  return {
    hook: {
      name: "metrics",
      onRequest(ctx) {
        if (ctx.stream) streams.add(ctx.requestId);
      },
      onComplete: record,
    },
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
