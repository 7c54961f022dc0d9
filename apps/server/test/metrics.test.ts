/**
 * GET /metrics as a scraper sees it: fetched over HTTP from the real server and read with a
 * Prometheus text-format parser. Requests go through the official OpenAI SDK.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchOverSocket } from "../src/control-client.js";
import { providersYaml, startTestServer, type TestServer } from "./harness.js";

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});

type Scrape = Map<string, Family> & { text: string };

async function scrape(url: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const families = parsePrometheusTextFormat(text) as Family[];
  return Object.assign(new Map(families.map((f) => [f.name, f])), { text });
}

/**
 * A histogram series' sample count. The parser keeps a labelled histogram's buckets but folds its
 * series together (prom2json's shape), so the `_count` line of the series is read directly.
 */
function histogramCount(scraped: Scrape, name: string, labels: Record<string, string>): number {
  const line = scraped.text.split("\n").find((l) => l.startsWith(`${name}_count{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return Number(line?.slice(line.lastIndexOf(" ") + 1) ?? NaN);
}

/** The sample of a family whose labels include `labels`. */
function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample | undefined {
  return families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) => Number(sample(families, name, labels)?.value ?? NaN);

describe("GET /metrics (open mode)", () => {
  let server: TestServer;
  beforeAll(async () => {
    const yaml = `${providersYaml(mock)}
  dead:
    api_protocol: openai
    api_base: http://127.0.0.1:1/v1
    api_key: key-dead
models:
  smart:
    strategy: priority
    endpoints:
      - { provider: dead, model_id: gpt-test }
      - { provider: oai, model_id: gpt-test }
`;
    server = await startTestServer(yaml, { database: "sqlite://bitrouter.db" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("counts requests, errors, latency, time to first byte, tokens, spend and failovers; reports gauges", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    mock.enqueue({ text: "hello", usage: { input: 10, output: 5 } });
    await client.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] });
    mock.enqueue({ text: ["a", "b"], usage: { input: 3, output: 2 } });
    const stream = await client.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }], stream: true });
    for await (const chunk of stream) void chunk;
    mock.enqueue({ error: "invalid_request", message: "no" });
    await expect(client.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 400 });
    // The dead endpoint refuses the connection: the route fails over to oai.
    mock.enqueue({ text: "after failover", usage: { input: 1, output: 1 } });
    await client.chat.completions.create({ model: "smart", messages: [{ role: "user", content: "hi" }] });
    // An unknown model: counted, but not under the name the caller made up.
    await expect(client.chat.completions.create({ model: "made-up-model-1234", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
      status: 404,
    });

    const m = await scrape(server.url);
    expect(m.get("bitrouter_requests_total")?.type).toBe("COUNTER");
    expect(value(m, "bitrouter_requests_total", { route: "oai:gpt-test", provider: "oai", model: "gpt-test", status: "200" })).toBe(2);
    expect(value(m, "bitrouter_requests_total", { route: "oai:gpt-test", provider: "oai", status: "400" })).toBe(1);
    expect(value(m, "bitrouter_requests_total", { route: "smart", provider: "oai", status: "200" })).toBe(1);
    expect(value(m, "bitrouter_request_errors_total", { kind: "invalid_request", provider: "oai" })).toBe(1);
    expect(value(m, "bitrouter_requests_total", { route: "none", provider: "none", status: "404" })).toBe(1);
    expect(m.text).not.toContain("made-up-model-1234");
    expect(value(m, "bitrouter_failovers_total", { route: "smart" })).toBe(1);

    for (const histogram of ["bitrouter_request_duration_seconds", "bitrouter_time_to_first_byte_seconds"]) {
      expect(m.get(histogram)?.type).toBe("HISTOGRAM");
      expect(m.get(histogram)?.metrics[0]?.buckets).toHaveProperty("+Inf");
    }
    expect(histogramCount(m, "bitrouter_request_duration_seconds", { route: "oai:gpt-test", stream: "true" })).toBe(1);
    expect(histogramCount(m, "bitrouter_request_duration_seconds", { route: "oai:gpt-test", stream: "false" })).toBe(2);
    expect(histogramCount(m, "bitrouter_time_to_first_byte_seconds", { route: "oai:gpt-test", stream: "true" })).toBe(1);

    expect(value(m, "bitrouter_tokens_total", { provider: "oai", model: "gpt-test", key: "none", direction: "input" })).toBe(14);
    expect(value(m, "bitrouter_tokens_total", { provider: "oai", model: "gpt-test", key: "none", direction: "output" })).toBe(8);
    // gpt-test costs 1 USD per million input tokens and 2 per million output tokens (harness pricing).
    expect(value(m, "bitrouter_spend_usd_total", { provider: "oai", model: "gpt-test", key: "none" })).toBeCloseTo((14 * 1 + 8 * 2) / 1_000_000, 12);

    expect(value(m, "bitrouter_inflight_streams")).toBe(0);
    expect(value(m, "bitrouter_inflight_requests")).toBe(1); // this scrape
    expect(value(m, "bitrouter_upstream_available", { provider: "oai" })).toBe(1);
    expect(value(m, "bitrouter_ledger_queue_depth")).toBeGreaterThanOrEqual(0);
    expect(value(m, "bitrouter_ledger_outage")).toBe(0);
  });

  it("GET /v1/routes lists the routes with the counters the control socket's /status has", async () => {
    const response = await fetch(`${server.url}/v1/routes`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { object: string; data: { name: string; requests: number; errors: number }[] };
    expect(body.object).toBe("list");
    expect(body.data).toEqual([
      { name: "smart", source: "config", strategy: "priority", endpoints: ["dead:gpt-test", "oai:gpt-test"], requests: 1, errors: 0 },
    ]);
    const status = (await fetchOverSocket(join(server.home, "run", "bitrouter.sock"), "/status")).body as { routes: unknown[] };
    expect(status.routes).toEqual(body.data);
  });

  it("counts a stream as in flight while it runs", async () => {
    mock.enqueue({ text: ["one", "two", "three"], chunkDelayMs: 400 });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "oai:gpt-test", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const reader = response.body!.getReader();
    await reader.read(); // the stream has started
    expect(value(await scrape(server.url), "bitrouter_inflight_streams")).toBe(1);
    while (!(await reader.read()).done);
    await expect.poll(async () => value(await scrape(server.url), "bitrouter_inflight_streams")).toBe(0);
  });
});

describe("GET /metrics with API keys", () => {
  it("GET /v1/routes shows a key only the routes it may use", async () => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-routes-"));
    const keysDir = join(home, ".keys");
    await createAccount(keysDir);
    const account = await unlockAccount(keysDir, 0);
    const yaml = `${providersYaml(mock)}
models:
  fast: { endpoints: [{ provider: oai, model_id: gpt-test }] }
  smart: { endpoints: [{ provider: ant, model_id: claude-test }] }
`;
    const server = await startTestServer(yaml, { home, keysDir });
    try {
      expect((await fetch(`${server.url}/v1/routes`)).status).toBe(401);
      const limited = await mintToken(account, { scope: "api", id: "routes-limited", models: ["fast"] } as Parameters<typeof mintToken>[1]);
      const seen = (await (await fetch(`${server.url}/v1/routes`, { headers: { authorization: `Bearer ${limited}` } })).json()) as { data: { name: string }[] };
      expect(seen.data.map((r) => r.name)).toEqual(["fast"]);
      const any = await mintToken(account, { scope: "api", id: "routes-any" } as Parameters<typeof mintToken>[1]);
      const all = (await (await fetch(`${server.url}/v1/routes`, { headers: { authorization: `Bearer ${any}` } })).json()) as { data: { name: string }[] };
      expect(all.data.map((r) => r.name).sort()).toEqual(["fast", "smart"]);
    } finally {
      await server.close();
    }
  });

  it("needs an admin token, like /admin", async () => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-metrics-"));
    const keysDir = join(home, ".keys");
    await createAccount(keysDir);
    const account = await unlockAccount(keysDir, 0);
    const server = await startTestServer(providersYaml(mock), { home, keysDir });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      const api = await mintToken(account, { scope: "api", id: "metrics-api-key" } as Parameters<typeof mintToken>[1]);
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${api}` } })).status).toBe(403);
      const admin = await mintToken(account, { scope: "admin", id: "metrics-admin-key" } as Parameters<typeof mintToken>[1]);
      const families = await scrape(server.url, admin);
      expect(families.has("bitrouter_requests_total")).toBe(true);
    } finally {
      await server.close();
    }
  });
});
