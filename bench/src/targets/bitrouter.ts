/**
 * BitRouter under test, in its own process: `startRuntime` as `bitrouter serve` runs it (info
 * logging to <home>/logs and stderr, which the parent sends to a temp file), providers pointing at the mocks.
 * `--mode` switches on one feature so its cost shows as a row of its own:
 *   plain | auth (operator account + minted token) | guardrails | metering (SQLite ledger) |
 *   tracing (OpenTelemetry spans exported over OTLP/HTTP to a sink in this process that only drains) |
 *   layered (auth, guardrails and metering at once: the goal "auth + guardrails + metering together").
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseConfig } from "@bitrouter/config";
import { createLogger, handleSignals, startRuntime } from "@bitrouter/server";
import { logMemory } from "./memory-log.js";

export type BitrouterMode = "plain" | "auth" | "guardrails" | "metering" | "tracing" | "layered";

const { values } = parseArgs({
  options: {
    openai: { type: "string" },
    idle: { type: "string" },
    anthropic: { type: "string" },
    mcp: { type: "string" },
    mode: { type: "string", default: "plain" },
    "log-level": { type: "string", default: "info" },
  },
});
const mode = values.mode as BitrouterMode;
if (!["plain", "auth", "guardrails", "metering", "tracing", "layered"].includes(mode))
  throw new Error(`--mode must be plain, auth, guardrails, metering, tracing or layered, got "${mode}"`);
const layered = mode === "layered";
const withAuth = mode === "auth" || layered;
const withGuardrails = mode === "guardrails" || layered;
const withMetering = mode === "metering" || layered;

/** Where `tracing` exports: a collector stand-in that reads each batch and answers 200. */
async function traceSink(): Promise<string> {
  const sink = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  sink.unref();
  return `http://127.0.0.1:${(sink.address() as { port: number }).port}/v1/traces`;
}
if (!values.openai || !values.idle || !values.anthropic) throw new Error("bitrouter target needs --openai, --idle and --anthropic origins");

const home = mkdtempSync(join(tmpdir(), `bitrouter-bench-${mode}-`));
const yaml = `
inherit_defaults: false
server:
  log_level: ${values["log-level"]}
providers:
  mock:
    api_protocol: openai
    api_base: ${values.openai}/v1
    api_key: bench-upstream-key
  idle:
    api_protocol: openai
    api_base: ${values.idle}/v1
    api_key: bench-upstream-key
  ant:
    api_protocol: anthropic
    api_base: ${values.anthropic}
    api_key: bench-upstream-key
${values.mcp ? `  tools:\n    api_protocol: mcp\n    api_base: ${values.mcp}\n` : ""}${withGuardrails ? "guardrails:\n  enabled: true\n" : ""}${mode === "tracing" ? `tracing:\n  enabled: true\n  endpoint: ${await traceSink()}\n` : ""}`;
writeFileSync(join(home, "bitrouter.yaml"), yaml);

let token: string | undefined;
const keysDir = join(home, ".keys");
if (withAuth) {
  // Loaded only here, as the server loads it only with a keystore: the other rows' memory is the server's own.
  const { createAccount, mintToken, unlockAccount } = await import("@bitrouter/auth");
  await createAccount(keysDir, { label: "bench" });
  token = await mintToken(await unlockAccount(keysDir, 0), { scope: "api", id: "bench-key" } as Parameters<typeof mintToken>[1]);
}

const config = parseConfig(yaml, { env: {}, home }).config;
const runtime = await startRuntime({
  load: () => config,
  paths: { runDir: join(home, "run") },
  listen: "127.0.0.1:0",
  logger: createLogger({ level: config.server.log_level, logsDir: join(home, "logs") }),
  ...(withAuth ? { auth: { keysDir } } : {}),
  ...(withMetering ? { database: { url: "sqlite://bitrouter.db", baseDir: home } } : {}),
});
handleSignals(runtime);
void runtime.closed.then(() => rmSync(home, { recursive: true, force: true }));
// The token goes to the parent over IPC only: never printed.
logMemory(`bitrouter-${mode}`);
process.send?.({ ready: { url: runtime.url, ...(token ? { token } : {}) } });
process.on("disconnect", () => void runtime.shutdown("parent gone").then(() => process.exit(0)));
