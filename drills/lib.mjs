// Shared by the drills: the real server as a child process (the built CLI), load from a pool of
// workers speaking all four protocols, and the process's memory and open handles from /proc.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BIN = join(ROOT, "apps", "cli", "dist", "bin.js");

/** The built workspace packages (the drills run what users run: dist, not source). */
export const controlClient = await import(join(ROOT, "apps", "server", "dist", "control-client.js"));
export const testkit = await import(join(ROOT, "packages", "testkit", "dist", "index.js"));
export const store = await import(join(ROOT, "packages", "store", "dist", "index.js"));
export const auth = await import(join(ROOT, "packages", "auth", "dist", "index.js"));
export const config = await import(join(ROOT, "packages", "config", "dist", "index.js"));

/** Every secret the drills hand out (provider keys, tokens, passwords): no log line may contain one. */
export const secrets = new Set();
/** Every server process's output and log file, for the secret scan. */
export const logs = [];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function secret(prefix) {
  const value = `${prefix}-${randomBytes(12).toString("hex")}`;
  secrets.add(value);
  return value;
}

export function tempHome(name) {
  return mkdtempSync(join(tmpdir(), `bitrouter-drill-${name}-`));
}

/**
 * Two mock upstreams per protocol, A and B: every route tries A first and fails over to B. `faults`
 * (0..1) is the share of A's answers that are faults: 503 overloaded, 429 with Retry-After, or
 * (non-stream) a connection reset before any byte.
 */
export async function startUpstreams(faults = 0) {
  const a = await testkit.startMock();
  const b = await testkit.startMock();
  let counter = 0;
  a.handle((request) => {
    const stream = /stream/i.test(request.path) || (typeof request.body === "object" && request.body !== null && request.body.stream === true);
    counter++;
    if (Math.random() >= faults) return undefined;
    const kind = counter % 3;
    if (kind === 0) return { error: "overloaded" };
    if (kind === 1) return { error: "rate_limit", headers: { "retry-after": "1" } };
    return stream ? { error: "server_error" } : { text: "never sent", failAfterChunks: 0 };
  });
  const keys = { oai: secret("sk-drill-oai"), ant: secret("sk-ant-drill"), goo: secret("AIza-drill") };
  const yaml = (extra = "") => `inherit_defaults: false
providers:
  oai-a: { api_protocol: openai, api_base: "${a.baseUrl("openai-chat")}", api_key: "${keys.oai}" }
  oai-b: { api_protocol: openai, api_base: "${b.baseUrl("openai-chat")}", api_key: "${keys.oai}" }
  ant-a: { api_protocol: anthropic, api_base: "${a.baseUrl("anthropic")}", api_key: "${keys.ant}" }
  ant-b: { api_protocol: anthropic, api_base: "${b.baseUrl("anthropic")}", api_key: "${keys.ant}" }
  goo-a: { api_protocol: google, api_base: "${a.baseUrl("google")}", api_key: "${keys.goo}" }
  goo-b: { api_protocol: google, api_base: "${b.baseUrl("google")}", api_key: "${keys.goo}" }
models:
  chat: { strategy: priority, endpoints: [{ provider: oai-a, model_id: gpt-drill }, { provider: oai-b, model_id: gpt-drill }] }
  claude: { strategy: priority, endpoints: [{ provider: ant-a, model_id: claude-drill }, { provider: ant-b, model_id: claude-drill }] }
  gemini: { strategy: priority, endpoints: [{ provider: goo-a, model_id: gemini-drill }, { provider: goo-b, model_id: gemini-drill }] }
${extra}`;
  return {
    a,
    b,
    yaml,
    reset() {
      a.reset();
      b.reset();
    },
    async close() {
      await a.close();
      await b.close();
    },
  };
}

/**
 * `bitrouter serve` in a child process on 127.0.0.1:<free port>, with `yaml` as its bitrouter.yaml.
 * `env` adds variables (e.g. BITROUTER_DATABASE_URL).
 */
export async function startServer(home, yaml, env = {}) {
  mkdirSync(home, { recursive: true });
  if (yaml !== undefined) writeFileSync(join(home, "bitrouter.yaml"), yaml);
  const child = spawn(process.execPath, [BIN, "serve", "--home-dir", home, "--listen", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const entry = { name: `serve ${home}`, text: () => output, file: join(home, "logs", "bitrouter.log") };
  logs.push(entry);
  child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bitrouter serve did not start within 30 s:\n${output}`)), 30_000);
    const onData = () => {
      const match = /BitRouter listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    void exited.then(() => reject(new Error(`bitrouter serve exited:\n${output}`)));
  });
  return {
    url,
    home,
    pid: child.pid,
    controlSocket: join(home, "run", "bitrouter.sock"),
    pidFile: join(home, "run", "bitrouter.pid"),
    output: () => output,
    /** SIGTERM, then the exit status. */
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
    exited,
  };
}

/** Resident memory (MiB) and open file descriptors (sockets, files, pipes) of a process. */
export function processFigures(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(rssKb / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

const PROTOCOLS = ["openai-chat", "openai-responses", "anthropic", "google"];

/** One request of the mix: a protocol, a route (same-protocol fast path, or translated) and stream or not. */
export function mixedCall(i) {
  const protocol = PROTOCOLS[i % 4];
  const stream = Math.floor(i / 4) % 2 === 1;
  const translated = Math.floor(i / 8) % 2 === 1;
  const text = `drill ${i}`;
  const model = {
    "openai-chat": translated ? "claude" : "chat",
    "openai-responses": translated ? "gemini" : "chat",
    anthropic: translated ? "chat" : "claude",
    google: translated ? "claude" : "gemini",
  }[protocol];
  switch (protocol) {
    case "openai-chat":
      return {
        protocol,
        stream,
        path: "/v1/chat/completions",
        body: { model, stream, messages: [{ role: "user", content: text }] },
        done: stream ? "[DONE]" : '"choices"',
      };
    case "openai-responses":
      return { protocol, stream, path: "/v1/responses", body: { model, stream, input: text }, done: stream ? "response.completed" : '"output"' };
    case "anthropic":
      return {
        protocol,
        stream,
        path: "/v1/messages",
        body: { model, stream, max_tokens: 32, messages: [{ role: "user", content: text }] },
        done: stream ? "message_stop" : '"content"',
      };
    default:
      return {
        protocol,
        stream,
        path: `/v1beta/models/${model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
        body: { contents: [{ role: "user", parts: [{ text }] }] },
        done: stream ? "finishReason" : '"candidates"',
      };
  }
}

/**
 * Sends requests from `concurrency` workers until `until()` says stop (or `count` requests). A
 * request fails unless it answers 200 with a complete body (a stream that ends cleanly).
 */
export async function runLoad({ url, concurrency, until, count, headers = {}, call = mixedCall }) {
  const stats = { sent: 0, ok: 0, failed: 0, failures: [], latenciesMs: [], byStatus: {} };
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (count !== undefined ? next >= count : until()) return;
      const c = call(next++);
      const start = performance.now();
      stats.sent++;
      try {
        const res = await fetch(url + c.path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(c.body) });
        const body = await res.text();
        stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
        if (res.status === 200 && body.includes(c.done)) {
          stats.ok++;
          stats.latenciesMs.push(performance.now() - start);
        } else {
          stats.failed++;
          if (stats.failures.length < 5)
            stats.failures.push(`${c.protocol}${c.stream ? " stream" : ""} ${c.body.model ?? c.path}: ${res.status} ${body.slice(0, 200)}`);
        }
      } catch (error) {
        stats.failed++;
        stats.byStatus.network = (stats.byStatus.network ?? 0) + 1;
        if (stats.failures.length < 5) stats.failures.push(`${c.protocol}: ${error.cause?.code ?? error.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stats;
}

export function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Rows in the `requests` table of a database URL (the ledger), optionally only these client ids. */
export async function ledgerCount(url, baseDir) {
  const s = await store.openStore(url, { baseDir });
  try {
    const row = await s.db
      .selectFrom("requests")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await s.close();
  }
}

/** A control-socket call, as `bitrouter reload | route | keys --revoke` make it. */
export function control(srv, path, init = {}) {
  return controlClient.fetchOverSocket(srv.controlSocket, path, init);
}

/** Asserts, collecting a message instead of throwing: a drill reports every broken expectation. */
export function checker() {
  const problems = [];
  return {
    problems,
    check(ok, message) {
      if (!ok) problems.push(message);
      return ok;
    },
  };
}

/** A raw HTTP request (any Host header, any content type), answering status, headers and body text. */
export function rawRequest(base, path, { method = "GET", headers = {}, body } = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Every line the servers of the drills wrote (stdout, stderr, log files), searched for every secret handed out. */
export function scanLogs() {
  let lines = 0;
  const leaks = [];
  for (const entry of logs) {
    const texts = [entry.text()];
    if (existsSync(entry.file)) texts.push(readFileSync(entry.file, "utf8"));
    for (const text of texts) {
      lines += text.split("\n").length;
      for (const value of secrets) if (text.includes(value)) leaks.push(`${entry.name}: contains a secret (${value.slice(0, 6)}...)`);
    }
  }
  return { lines, secrets: secrets.size, leaks };
}
