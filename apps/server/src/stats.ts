import type { CompletionRecord, RouterHook } from "@bitrouter/core";
import { callerRequestId } from "@bitrouter/router";
import type { Logger } from "./logger.js";

/** Live counters of this process, for `bitrouter status`, the TUI and the control API. */
export interface Stats {
  snapshot(): StatsSnapshot;
  record(record: CompletionRecord): void;
}

export interface StatsSnapshot {
  requests: number;
  errors: number;
  streams: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  /** Requests per second over the last 10 seconds. */
  rps: number;
  /** Latency percentiles (ms) over the last 1,000 requests. */
  latencyP50: number;
  latencyP99: number;
  byModel: Record<string, { requests: number; errors: number }>;
}

const WINDOW = 1000;

export function createStats(now: () => number = Date.now): Stats {
  let requests = 0;
  let errors = 0;
  let streams = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let costMicroUsd = 0;
  const latencies = new Float64Array(WINDOW);
  const times = new Float64Array(WINDOW);
  let cursor = 0;
  const byModel = new Map<string, { requests: number; errors: number }>();
  return {
    record(r) {
      requests += 1;
      if (r.status >= 400 || r.errorKind) errors += 1;
      if (r.stream) streams += 1;
      inputTokens += r.usage?.inputTokens ?? 0;
      outputTokens += r.usage?.outputTokens ?? 0;
      costMicroUsd += r.costMicroUsd ?? 0;
      latencies[cursor % WINDOW] = r.latencyMs;
      times[cursor % WINDOW] = now();
      cursor += 1;
      if (byModel.size < 1000 || byModel.has(r.route)) {
        const m = byModel.get(r.route) ?? { requests: 0, errors: 0 };
        m.requests += 1;
        if (r.status >= 400 || r.errorKind) m.errors += 1;
        byModel.set(r.route, m);
      }
    },
    snapshot() {
      const n = Math.min(cursor, WINDOW);
      const sorted = Array.from(latencies.subarray(0, n)).sort((a, b) => a - b);
      const pct = (p: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor((p / 100) * n))]!);
      const cutoff = now() - 10_000;
      let recent = 0;
      for (let i = 0; i < n; i++) if (times[i]! >= cutoff) recent += 1;
      return {
        requests,
        errors,
        streams,
        inputTokens,
        outputTokens,
        costMicroUsd,
        rps: recent / 10,
        latencyP50: pct(50),
        latencyP99: pct(99),
        byModel: Object.fromEntries(byModel),
      };
    },
  };
}

export function statsHook(stats: Stats): RouterHook {
  return { name: "stats", onComplete: (record) => stats.record(record) };
}

/** One log line per request: id, route, provider, model, status, latency, tokens. Never a credential. */
export function requestLogHook(logger: Logger): RouterHook {
  return {
    name: "request-log",
    onComplete(r, ctx) {
      const fields = {
        id: r.requestId,
        client_id: callerRequestId(ctx.headers),
        in: r.inboundProtocol,
        route: r.route,
        provider: r.provider,
        model: r.modelId,
        stream: r.stream,
        status: r.status,
        error: r.errorKind,
        ms: r.latencyMs,
        ttfb_ms: r.ttfbMs,
        attempts: r.attempts > 1 ? r.attempts : undefined,
        in_tok: r.usage?.inputTokens,
        out_tok: r.usage?.outputTokens,
        cost_uusd: r.costMicroUsd,
      };
      if (r.adjusted) logger.debug("request fitted to the model's limits", { id: r.requestId, model: r.modelId, changes: r.adjusted.join("; ") });
      if (r.status >= 500 || (r.errorKind && r.status < 400)) logger.warn("request", fields);
      else logger.info("request", fields);
    },
  };
}
