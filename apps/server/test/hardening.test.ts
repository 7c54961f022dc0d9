/**
 * Hardening (issue 13): ids callers cannot collide, open mode that a web page cannot drive, and
 * inputs that break parsers answered as 400 in the caller's protocol, on the ledger.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { openStore } from "@bitrouter/store";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { fetchOverSocket } from "../src/control-client.js";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
let server: TestServer;
beforeAll(async () => {
  mock = await startMock();
  server = await startTestServer(providersYaml(mock), { database: "sqlite://bitrouter.db" });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const json = { "content-type": "application/json" };
const ledgerRows = async () => {
  const { ledger, store } = server.runtime.metering!;
  await ledger.flush();
  return store.db.selectFrom("requests").selectAll().orderBy("created_at").execute();
};

describe("request ids", () => {
  it("a caller repeating its x-request-id gets one ledger row per request, keyed by the server", async () => {
    const before = (await ledgerRows()).length;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...json, "x-request-id": "same-id" },
        body: JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
      // The answer still echoes the caller's id, so its traces join up.
      expect(res.headers.get("x-request-id")).toBe("same-id");
      await res.text();
    }
    const rows = (await ledgerRows()).slice(before);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.client_request_id)).toEqual(["same-id", "same-id", "same-id"]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
    for (const row of rows) expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    // The request log lines carry both ids.
    await server.runtime.logger.flush();
    const log = readFileSync(join(server.home, "logs", "bitrouter.log"), "utf8");
    for (const row of rows) expect(log).toMatch(new RegExp(`${row.id}.*same-id`));
  });

  it("the ledger's ids are time-ordered UUIDs (version 7) carrying the arrival time", async () => {
    const before = (await ledgerRows()).length;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] }),
      });
      ids.push(res.headers.get("x-request-id") ?? "");
      await res.text();
      await new Promise((resolve) => setTimeout(resolve, 2)); // the next one in a later millisecond
    }
    const rows = (await ledgerRows()).slice(before);
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect([...ids].sort()).toEqual(ids);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // Made as the request arrived, a moment before the row's created_at.
      const age = Number(row.created_at) - Number.parseInt(row.id.slice(0, 8) + row.id.slice(9, 13), 16);
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(1000);
    }
  });
});

/** A raw HTTP request, so tests can send any Host header (fetch would not). */
function raw(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: init.method ?? "GET", headers: init.headers ?? {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const chatBody = JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] });

describe("open mode refuses what a web page could send", () => {
  it("a text/plain or form POST (no CORS preflight) is 415 in the caller's protocol, recorded, never forwarded", async () => {
    const before = (await ledgerRows()).length;
    const chat = await raw("/v1/chat/completions", { method: "POST", headers: { "content-type": "text/plain;charset=UTF-8" }, body: chatBody });
    expect(chat.status).toBe(415);
    expect(JSON.parse(chat.body)).toMatchObject({ error: { type: "invalid_request_error", message: expect.stringContaining("application/json") } });
    const messages = await raw("/v1/messages", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ model: "ant:claude-test", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(messages.status).toBe(415);
    expect(JSON.parse(messages.body)).toMatchObject({ type: "error", error: { message: expect.stringContaining("application/json") } });
    expect(mock.requests).toHaveLength(0);
    const rows = (await ledgerRows()).slice(before);
    expect(rows.map((r) => r.status)).toEqual([415, 415]);
  });

  it("a foreign Origin is 403; the server's own origin and local programs (no Origin) are served", async () => {
    const foreign = await raw("/v1/chat/completions", { method: "POST", headers: { ...json, origin: "https://evil.example" }, body: chatBody });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).error.message).toContain("https://evil.example");
    const local = await raw("/v1/models", { headers: { origin: "http://localhost:3000" } });
    expect(local.status).toBe(403);
    expect(mock.requests).toHaveLength(0);
    const own = await raw("/v1/chat/completions", { method: "POST", headers: { ...json, origin: server.url }, body: chatBody });
    expect(own.status).toBe(200);
    expect(own.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("a Host that is not loopback, an IP address or the listen host is 403 (DNS rebinding)", async () => {
    const port = new URL(server.url).port;
    const rebound = await raw("/v1/chat/completions", { method: "POST", headers: { ...json, host: `attacker.example:${port}` }, body: chatBody });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.message).toMatch(/DNS rebinding/);
    expect((await raw("/v1/models", { headers: { host: `attacker.example:${port}` } })).status).toBe(403);
    expect(mock.requests).toHaveLength(0);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await raw("/v1/models", { headers: { host } })).status).toBe(200);
    }
  });

  it("/admin over HTTP is refused without accounts, pointing to the control socket", async () => {
    const routes = await raw("/admin/routes");
    expect(routes.status).toBe(403);
    expect(JSON.parse(routes.body).error.message).toMatch(/control socket/);
    const reload = await raw("/admin/reload", { method: "POST", headers: json, body: "{}" });
    expect(reload.status).toBe(403);
  });

  it("server.cors_origins lets a listed web app call from the browser (preflight and answer)", async () => {
    const origin = "https://app.example.com";
    expect((await raw("/v1/chat/completions", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } })).status).toBe(403);
    server.setYaml(`${providersYaml(mock)}\nserver:\n  cors_origins: ["${origin}"]\n`);
    expect(await server.runtime.reload()).toEqual({ ok: true });
    try {
      const preflight = await raw("/v1/chat/completions", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers).toMatchObject({ "access-control-allow-origin": origin, "access-control-allow-headers": "content-type, authorization" });
      // A preflight naming no headers is told every protocol's credential header.
      const bare = await raw("/v1/messages", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
      expect(bare.headers["access-control-allow-headers"]).toBe("authorization, content-type, x-api-key, x-goog-api-key");
      const answer = await raw("/v1/chat/completions", { method: "POST", headers: { ...json, origin }, body: chatBody });
      expect(answer.status).toBe(200);
      expect(answer.headers["access-control-allow-origin"]).toBe(origin);
      const models = await raw("/v1/models", { headers: { origin } });
      expect(models.headers["access-control-allow-origin"]).toBe(origin);
      // Still refused: an origin that is not listed.
      expect((await raw("/v1/chat/completions", { method: "POST", headers: { ...json, origin: "https://other.example.com" }, body: chatBody })).status).toBe(
        403,
      );
    } finally {
      server.setYaml(providersYaml(mock));
      await server.runtime.reload();
    }
  });
});

describe("inputs that break parsers", () => {
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

  it("a client that goes away in the middle of its body is not forwarded, and the server keeps serving", async () => {
    const { hostname: host, port } = new URL(server.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port: Number(port) }, () => {
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":"oai:gpt-test",`,
        );
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    const after = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] }),
    });
    expect(after.status).toBe(200);
    expect(mock.requests).toHaveLength(1);
  });

  it("100,000 nested brackets answer 400 in each protocol's shape, and are recorded", async () => {
    const before = (await ledgerRows()).length;
    const cases = [
      {
        path: "/v1/chat/completions",
        body: `{"model":"oai:gpt-test","messages":[{"role":"user","content":"x"}],"x":${deep(100_000)}}`,
        shape: { error: { type: "invalid_request_error" } },
      },
      {
        path: "/v1/messages",
        body: `{"model":"ant:claude-test","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"t","input_schema":{"type":"object","properties":{"p":${deep(100_000)}}}}]}`,
        shape: { type: "error", error: { type: "invalid_request_error" } },
      },
      {
        path: "/v1/responses",
        body: `{"model":"ant:claude-test","input":"x","tools":[{"type":"function","name":"t","parameters":${deep(100_000)}}]}`,
        shape: { error: { type: "invalid_request_error" } },
      },
      {
        path: "/v1beta/models/goo:gemini-test:generateContent",
        body: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"x":${deep(100_000)}}`,
        shape: { error: { code: 400, status: "INVALID_ARGUMENT" } },
      },
    ];
    for (const { path, body, shape } of cases) {
      const res = await raw(path, { method: "POST", headers: json, body });
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body), path).toMatchObject(shape);
    }
    const rows = (await ledgerRows()).slice(before);
    expect(rows.map((r) => r.status)).toEqual([400, 400, 400, 400]);
  });

  it("model names that are Object.prototype properties are unknown models (404), not a crash", async () => {
    for (const name of ["valueOf", "constructor", "__proto__", "toString:x", "hasOwnProperty:gpt-test"]) {
      const chat = await raw("/v1/chat/completions", {
        method: "POST",
        headers: json,
        body: JSON.stringify({ model: name, messages: [{ role: "user", content: "x" }] }),
      });
      expect(chat.status, name).toBe(404);
      const gemini = await raw(`/v1beta/models/${encodeURIComponent(name)}:generateContent`, {
        method: "POST",
        headers: json,
        body: `{"contents":[{"role":"user","parts":[{"text":"x"}]}]}`,
      });
      expect(gemini.status, name).toBe(404);
    }
  });

  it("a bad %-encoding in a Gemini path answers 400 in Gemini's shape, and is recorded", async () => {
    const before = (await ledgerRows()).length;
    const res = await raw("/v1beta/models/goo:gem%ZZini:generateContent", { method: "POST", headers: json, body: `{"contents":[]}` });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT", message: expect.stringContaining("percent-encoding") } });
    const rows = (await ledgerRows()).slice(before);
    expect(rows).toMatchObject([{ status: 400, inbound_protocol: "google", error_kind: "invalid_request" }]);
    expect((await raw("/health")).status).toBe(200);
  });
});

describe("reload", () => {
  it("refuses an empty or truncated bitrouter.yaml, keeps serving the old one, and says why", async () => {
    const full = `${providersYaml(mock)}
models:
  smart:
    strategy: priority
    endpoints:
      - { provider: oai, model_id: gpt-test }
`;
    server.setYaml(full);
    expect(await server.runtime.reload()).toEqual({ ok: true });
    for (const broken of ["", "# saved half\n", full.slice(0, full.indexOf("models:") + "models:\n".length)]) {
      server.setYaml(broken);
      const answer = await fetchOverSocket(server.runtime.controlSocket!, "/reload", { method: "POST" });
      expect(answer.status).toBe(422);
      expect((answer.body as { error: string }).error).toMatch(/empty or cut short/);
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ model: "smart", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
    }
  });
});

describe("graceful shutdown", () => {
  it("meters the streams the drain timeout cuts, and answers keep-alive requests during the drain with Connection: close", async () => {
    const drained = await startTestServer(providersYaml(mock), { database: "sqlite://bitrouter.db", drainTimeoutMs: 1000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const url = new URL(drained.url);
        const req = request({ host: url.hostname, port: url.port, path, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on("error", reject);
        req.end();
      });
    try {
      expect((await get("/health")).status).toBe(200); // leaves an idle keep-alive socket
      // A translated stream far longer than the drain timeout.
      mock.enqueue({ text: Array.from({ length: 100 }, (_, i) => `w${i} `), chunkDelayMs: 50 });
      const stream = await fetch(`${drained.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...json, "x-request-id": "cut-by-drain" },
        body: JSON.stringify({ model: "ant:claude-test", stream: true, messages: [{ role: "user", content: "talk" }] }),
      });
      const reader = stream.body!.getReader();
      await reader.read(); // the stream is under way
      const shutdown = drained.close();
      const during = await get("/v1/models"); // on the idle keep-alive socket, mid-drain
      expect(during).toEqual({ status: 200, connection: "close" });
      await reader.read().catch(() => {});
      await shutdown;
      void reader.cancel().catch(() => {});
    } finally {
      agent.destroy();
      await drained.close();
    }
    // The cut stream is on the ledger (opened again after the shutdown).
    const store = await openStore("sqlite://bitrouter.db", { baseDir: drained.home });
    try {
      const rows = await store.db.selectFrom("requests").select(["status", "stream"]).where("client_request_id", "=", "cut-by-drain").execute();
      expect(rows).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
