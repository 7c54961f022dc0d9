/**
 * Load generators. Fixed rates, streams and idle streams use an open-loop undici client with
 * sub-millisecond timing (autocannon's histogram has 1 ms resolution, too coarse for "added
 * p50 <= 0.5 ms"); saturation uses autocannon.
 */
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { Pool } from "undici";
import { summarize } from "./report.js";

export interface HttpCall {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  completed: number;
  /** Streams: time to the first content event (the first token a user sees). */
  ttfbP50?: number;
  ttfbP99?: number;
  /** Streams: time to the first body byte, whatever it carries (a role-only chunk counts). */
  firstByteP50?: number;
  firstByteP99?: number;
  /** Fixed rate: requests that could not be sent on schedule because all connections were busy. */
  late?: number;
  note?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function firstError(errors: Map<string, number>): string | undefined {
  const [entry] = errors;
  return entry ? `${entry[1]}x ${entry[0]}` : undefined;
}

/**
 * Sends `rate` requests per second for `durationMs`, on schedule whatever the answers' latency
 * (open loop). Latency runs from the moment a request is handed to the client to the last byte.
 */
export async function fixedRate(call: HttpCall, rate: number, durationMs: number, connections = 64): Promise<LoadResult> {
  const pool = new Pool(call.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let inflight = 0;
  let late = 0;
  const pending: Promise<void>[] = [];
  const one = async (): Promise<void> => {
    inflight++;
    const start = performance.now();
    try {
      const res = await pool.request({ path: call.path, method: "POST", headers: call.headers, body: call.body });
      await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (res.statusCode === 200) latencies.push(performance.now() - start);
      else errors.set(`HTTP ${res.statusCode}`, (errors.get(`HTTP ${res.statusCode}`) ?? 0) + 1);
    } catch (error) {
      const key = error instanceof Error ? error.message : String(error);
      errors.set(key, (errors.get(key) ?? 0) + 1);
    } finally {
      inflight--;
    }
  };
  const t0 = performance.now();
  let sent = 0;
  const total = Math.round((rate * durationMs) / 1000);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (sent < due) {
      if (inflight >= connections * 4) {
        late++; // the target is not keeping up: count it rather than queueing without bound
      } else {
        pending.push(one());
      }
      sent++;
    }
    await sleep(1);
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  await pool.close();
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  const note = [late ? `${late} not sent: ${connections * 4} already waiting` : "", firstError(errors) ?? ""].filter(Boolean).join("; ");
  return { rps: latencies.length / elapsed, ...summarize(latencies), errors: errorCount + late, completed: latencies.length, late, ...(note ? { note } : {}) };
}

/** Closed-loop saturation with autocannon: `connections` keep-alive connections, each sending back to back. */
export async function saturation(call: HttpCall, connections: number, durationS: number): Promise<LoadResult> {
  const result = await autocannon({
    url: `${call.origin}${call.path}`,
    method: "POST",
    headers: call.headers,
    body: call.body,
    connections,
    duration: durationS,
  });
  const completed = result.requests.total - result.non2xx;
  return {
    rps: completed / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    completed,
    note: "autocannon: latency in whole ms",
  };
}

/**
 * Finds the first content event of an OpenAI chat completions stream (every bench target streams
 * that protocol to the client): a `data:` event whose delta carries text or a tool call. A role-only
 * chunk is not content: a proxy may hold it until content comes (BitRouter does, to fail over a
 * stream that breaks before its first token), so time to first byte would compare different events.
 */
export class FirstContent {
  #buffer = "";
  /** Feeds a chunk of the body; true once a content event has been seen in what was fed. */
  push(chunk: string): boolean {
    this.#buffer += chunk;
    let end = this.#buffer.indexOf("\n\n");
    while (end !== -1) {
      const event = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      if (isContentEvent(event)) return true;
      end = this.#buffer.indexOf("\n\n");
    }
    return false;
  }
}

function isContentEvent(event: string): boolean {
  for (const line of event.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "[DONE]") continue;
    try {
      const choices = (JSON.parse(data) as { choices?: { delta?: { content?: unknown; tool_calls?: unknown[] } }[] }).choices ?? [];
      if (choices.some((c) => (typeof c.delta?.content === "string" && c.delta.content !== "") || (c.delta?.tool_calls?.length ?? 0) > 0)) return true;
    } catch {
      // not JSON: not content
    }
  }
  return false;
}

/**
 * `concurrency` clients, each streaming one answer after another for `durationMs`. Records the
 * time to the first content event (TTFB, see `FirstContent`), to the first body byte and to the
 * end; a stream counts only if it ended with `[DONE]` after content.
 */
export async function streams(call: HttpCall, concurrency: number, durationMs: number): Promise<LoadResult> {
  const pool = new Pool(call.origin, { connections: concurrency, pipelining: 1 });
  const ttfb: number[] = [];
  const firstBytes: number[] = [];
  const totals: number[] = [];
  const errors = new Map<string, number>();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const start = performance.now();
      try {
        const res = await pool.request({ path: call.path, method: "POST", headers: call.headers, body: call.body });
        let firstByte = 0;
        let firstContent = 0;
        const content = new FirstContent();
        let tail = "";
        for await (const chunk of res.body) {
          const now = performance.now();
          if (!firstByte) firstByte = now;
          const text = (chunk as Buffer).toString("latin1");
          if (!firstContent && content.push(text)) firstContent = now;
          tail = (tail + text).slice(-64);
        }
        if (res.statusCode !== 200 || !tail.includes("[DONE]") || !firstContent)
          throw new Error(res.statusCode !== 200 ? `HTTP ${res.statusCode}` : firstContent ? "stream did not end with [DONE]" : "stream carried no content");
        ttfb.push(firstContent - start);
        firstBytes.push(firstByte - start);
        totals.push(performance.now() - start);
      } catch (error) {
        const key = error instanceof Error ? error.message : String(error);
        errors.set(key, (errors.get(key) ?? 0) + 1);
        await sleep(5);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  await pool.close();
  const t = summarize(ttfb);
  const b = summarize(firstBytes);
  return {
    rps: totals.length / elapsed,
    ...summarize(totals),
    ttfbP50: t.p50,
    ttfbP99: t.p99,
    firstByteP50: b.p50,
    firstByteP99: b.p99,
    errors: [...errors.values()].reduce((a, b) => a + b, 0),
    completed: totals.length,
    ...(firstError(errors) ? { note: firstError(errors) } : {}),
  };
}

export interface OpenStreams {
  result: LoadResult;
  /** Closes every stream (the client disconnects). */
  close(): Promise<void>;
}

/** Opens `count` streams that stay open upstream and waits for each one's first byte. */
export async function openIdleStreams(call: HttpCall, count: number, timeoutMs: number): Promise<OpenStreams> {
  const pool = new Pool(call.origin, { connections: count, pipelining: 1 });
  const abort = new AbortController();
  setMaxListeners(count + 10, abort.signal); // one listener per open request
  const ttfb: number[] = [];
  const errors = new Map<string, number>();
  const t0 = performance.now();
  const timer = setTimeout(() => abort.abort(new Error(`not all ${count} streams opened within ${timeoutMs} ms`)), timeoutMs);
  const bodies: { destroy(): void }[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      const start = performance.now();
      try {
        const res = await pool.request({ path: call.path, method: "POST", headers: call.headers, body: call.body, signal: abort.signal });
        bodies.push(res.body);
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        await new Promise<void>((resolve, reject) => {
          res.body.once("data", () => resolve());
          res.body.once("error", reject);
          res.body.once("end", () => reject(new Error("stream ended early")));
        });
        ttfb.push(performance.now() - start);
      } catch (error) {
        const key = error instanceof Error ? error.message : String(error);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }),
  );
  clearTimeout(timer);
  const openMs = performance.now() - t0;
  const t = summarize(ttfb);
  return {
    result: {
      rps: ttfb.length / (openMs / 1000),
      p50: t.p50,
      p90: t.p90,
      p99: t.p99,
      // The first byte, not parsed: the idle mock's one chunk carries content, so it is also the first token.
      firstByteP50: t.p50,
      firstByteP99: t.p99,
      errors: [...errors.values()].reduce((a, b) => a + b, 0),
      completed: ttfb.length,
      note: `${ttfb.length} streams open after ${openMs.toFixed(0)} ms${firstError(errors) ? `; ${firstError(errors)}` : ""}`,
    },
    close: async () => {
      abort.abort();
      for (const body of bodies) body.destroy();
      await pool.destroy();
    },
  };
}

/**
 * `rounds` times, one after another: opens a stream that stays open upstream, waits for its first
 * byte, then the client goes away; measures how long until the upstream sees its connection
 * closed (`closedUrl` answers the idle mock's close count and the time of the last close). A
 * proxy that leaves the upstream open for `giveUpMs` counts an error.
 */
export async function abortReach(call: HttpCall, closedUrl: string, rounds: number, giveUpMs = 2000): Promise<LoadResult> {
  const pool = new Pool(call.origin, { connections: 1, pipelining: 1 });
  const closed = async (): Promise<{ count: number; lastAtMs: number }> => (await fetch(closedUrl)).json() as Promise<{ count: number; lastAtMs: number }>;
  const delays: number[] = [];
  let stuck = 0;
  for (let i = 0; i < rounds; i++) {
    const before = (await closed()).count;
    const abort = new AbortController();
    const res = await pool.request({ path: call.path, method: "POST", headers: call.headers, body: call.body, signal: abort.signal });
    await new Promise<void>((resolve, reject) => {
      res.body.once("data", () => resolve());
      res.body.once("error", reject);
    });
    const abortedAt = performance.timeOrigin + performance.now();
    abort.abort();
    res.body.on("error", () => {}); // the abort itself
    const deadline = performance.now() + giveUpMs;
    let state = await closed();
    while (state.count === before && performance.now() < deadline) {
      await sleep(1);
      state = await closed();
    }
    if (state.count === before) {
      stuck++;
      break; // it keeps upstreams open: more rounds would only wait longer
    }
    delays.push(Math.max(0, state.lastAtMs - abortedAt));
  }
  await pool.destroy();
  return {
    rps: 0,
    ...summarize(delays),
    errors: stuck,
    completed: delays.length,
    note: `ms from the client's abort until the upstream saw its connection close${stuck ? `; the upstream was still open ${giveUpMs} ms after an abort` : ""}`,
  };
}
