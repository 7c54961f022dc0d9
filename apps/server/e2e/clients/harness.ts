/**
 * What every client test needs: one mock upstream, one BitRouter server per upstream protocol (each
 * routing the clients' default model names and `e2e-model` there), a throwaway HOME per client run,
 * and a child-process runner.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MockHandler, MockScript, MockUpstream, RecordedRequest } from "@bitrouter/testkit";
import { providersYaml, startTestServer } from "../../test/harness.js";
import type { TestServer } from "../../test/harness.js";
import { DEFAULT_MODELS } from "./install.mjs";

/** The upstream protocols a client is routed to; `openai-responses` is OpenAI with its Responses API. */
export type Upstream = "openai-chat" | "openai-responses" | "anthropic" | "google";
export const UPSTREAMS: readonly Upstream[] = ["openai-chat", "openai-responses", "anthropic", "google"];

const PROVIDER: Record<Upstream, string> = { "openai-chat": "oai", "openai-responses": "oai-responses", anthropic: "ant", google: "goo" };
/** The key BitRouter sends each upstream (the client's own key must never reach it). */
export const UPSTREAM_KEY: Record<Upstream, string> = { "openai-chat": "key-oai", "openai-responses": "key-oai", anthropic: "key-ant", google: "key-goo" };

/** The marker a tool result carries: seeing it upstream proves the round trip. */
export const MARKER = "pong-42";
export const TEXT = "Hello from BitRouter";

export async function startServer(mock: MockUpstream, upstream: Upstream): Promise<TestServer> {
  const names = ["e2e-model", DEFAULT_MODELS.claude, DEFAULT_MODELS.codex, ...DEFAULT_MODELS.gemini];
  const models = names.map((name) => `  ${name}: { endpoints: [{ provider: ${PROVIDER[upstream]}, model_id: up-model }] }`).join("\n");
  return startTestServer(`${providersYaml(mock)}
  oai-responses:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: key-oai
    responses_api: true
models:
${models}
`);
}

/** Answers text, whatever is asked. */
export const textAnswer = (): MockHandler => () => ({ text: [TEXT.slice(0, 5), TEXT.slice(5)] });

/** Calls `tool` until a request carries the marker (the tool's result), then answers with it. */
export const toolAnswer =
  (tool: string, args: Record<string, unknown>): MockHandler =>
  (request: RecordedRequest): MockScript => {
    if (request.rawBody.includes(MARKER)) return { text: `The tool said ${MARKER}.` };
    return { toolCalls: [{ name: tool, arguments: JSON.stringify(args) }] };
  };

export function answerText(mock: MockUpstream): void {
  mock.handle(textAnswer());
}

export function answerWithTool(mock: MockUpstream, tool: string, args: Record<string, unknown>): void {
  mock.handle(toolAnswer(tool, args));
}

/** Inference requests the mock saw (model lists and token counts left out). */
export function inferenceRequests(mock: MockUpstream): RecordedRequest[] {
  return mock.requests.filter((r) => r.method === "POST" && r.protocol !== undefined && !r.path.includes("count_tokens") && !r.path.includes(":countTokens"));
}

/** The upstream got BitRouter's key for it, never the client's. */
export function upstreamKeyOf(request: RecordedRequest): string | undefined {
  return request.headers["x-api-key"] ?? request.headers["x-goog-api-key"] ?? request.headers.authorization?.replace(/^Bearer /, "");
}

/** Every throwaway HOME lives under this directory, removed when the suite ends (global-setup.ts). */
export const TEMP_ROOT = join(tmpdir(), "bitrouter-e2e-clients");

export function tempHome(prefix: string): string {
  mkdirSync(TEMP_ROOT, { recursive: true });
  return mkdtempSync(join(TEMP_ROOT, `${prefix}-`));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client to completion with stdin closed; a timeout kills it (and fails the test with its output). */
export function run(command: string, args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} timed out\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, options.timeoutMs ?? 180_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A minimal environment: PATH and a throwaway HOME, nothing of the developer's own configuration. */
export function cleanEnv(home: string, extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TMPDIR: tmpdir(), LANG: "C.UTF-8", ...extra };
}
