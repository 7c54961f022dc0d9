// The embedding path as a user takes it: @bitrouter/router and the packages it needs packed as they
// would be published and served by a loopback npm registry (scripts/registry.mjs), installed with npm
// into a directory outside the repository beside this example's own files, the service compiled there
// against the installed types and started with plain `node`; then its endpoints, which call
// router.generate, router.stream and router.fetch, answer from a testkit mock upstream.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type MockUpstream, startMock } from "@bitrouter/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packWorkspace } from "../../../scripts/pack.mjs";
import { type Registry, startRegistry } from "../../../scripts/registry.mjs";

const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));
const REPO = join(EXAMPLE, "../..");

/** Runs a command; a failure shows its output (tsc reports on stdout). */
function exec(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: env ?? process.env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr}`);
}

let work: string;
let registry: Registry | undefined;
let mock: MockUpstream;
let service: ChildProcess | undefined;
let base: string;
let output = "";

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "bitrouter-embed-install-"));
  mock = await startMock();
  // dist/ is current: turbo builds before it tests (a rebuild here would race other test files).
  const { specs, tarballs } = packWorkspace(["@bitrouter/router"], join(work, "tarballs"), { build: false });
  expect(Object.keys(specs).sort()).toEqual(["@bitrouter/config", "@bitrouter/core", "@bitrouter/providers", "@bitrouter/router"]);
  registry = await startRegistry(tarballs);

  // The example's files; its package.json with @bitrouter/router at the packed version, as
  // `npm install @bitrouter/router` would save it.
  const app = join(work, "app");
  cpSync(join(EXAMPLE, "src"), join(app, "src"), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(EXAMPLE, "package.json"), "utf8"));
  delete manifest.devDependencies;
  const { version } = JSON.parse(readFileSync(join(REPO, "packages/router/package.json"), "utf8"));
  manifest.dependencies["@bitrouter/router"] = `^${version}`;
  writeFileSync(join(app, "package.json"), JSON.stringify(manifest, null, 2));
  exec("npm", ["install", "--loglevel=error"], app, { ...process.env, ...registry.env });
  expect(realpathSync(join(app, "node_modules/@bitrouter/router")).startsWith(realpathSync(app))).toBe(true); // a copy, not a link

  // Compiled against the installed package's types (typed options), Node's types from the repo.
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2023",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        skipLibCheck: true,
        outDir: "dist",
        rootDir: "src",
        types: ["node"],
        typeRoots: [join(REPO, "node_modules/@types")],
      },
      include: ["src"],
    }),
  );
  exec(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", app], app);

  // `npm start` is `node dist/main.js`; run node directly so the test owns the process.
  service = spawn(process.execPath, ["dist/main.js"], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      OPENAI_API_KEY: "sk-embed-openai",
      OPENAI_BASE_URL: mock.baseUrl("openai-chat"),
      ANTHROPIC_API_KEY: "sk-ant-embed",
      ANTHROPIC_BASE_URL: mock.baseUrl("anthropic"),
    },
  });
  service.stdout!.on("data", (d) => (output += d));
  service.stderr!.on("data", (d) => (output += d));
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 30_000);
    service!.stdout!.on("data", () => {
      const started = /service on (http:\/\/\S+)/.exec(output);
      if (started) {
        clearTimeout(timer);
        resolve(started[1]!);
      }
    });
    service!.on("exit", (code) => reject(new Error(`the service exited (${code}):\n${output}`)));
  });
}, 300_000);

afterAll(async () => {
  service?.kill();
  registry?.close();
  await mock?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("examples/embed-router installed from the packed tarballs, run with plain node", () => {
  it("POST /summarize answers through router.generate", async () => {
    mock.enqueue({ text: "A short summary.", usage: { input: 20, output: 4 } });
    const res = await fetch(`${base}/summarize`, { method: "POST", body: "A long text about routers." });
    expect(await res.json()).toEqual({ summary: "A short summary.", usage: { inputTokens: 20, outputTokens: 4 } });
    expect(mock.requests.at(-1)).toMatchObject({ path: "/v1/chat/completions", body: { model: "gpt-4o-mini" } });
    expect(mock.requests.at(-1)!.headers.authorization).toBe("Bearer sk-embed-openai");
  });

  it("POST /summarize/stream streams through router.stream, failing over to Anthropic", async () => {
    mock.enqueue({ error: "server_error" }, { text: ["A short ", "summary."] });
    const res = await fetch(`${base}/summarize/stream`, { method: "POST", body: "A long text about routers." });
    expect(await res.text()).toBe("A short summary.");
    expect(mock.requests.slice(-2).map((r) => r.path)).toEqual(["/v1/chat/completions", "/v1/messages"]);
    expect(mock.requests.at(-1)!.body).toMatchObject({ model: "claude-3-5-haiku-latest", stream: true });
  });

  it("/llm/v1 serves the OpenAI SDK through router.fetch", async () => {
    mock.enqueue({ text: ["Hi ", "there"] });
    const client = new OpenAI({ baseURL: `${base}/llm/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "summarizer", messages: [{ role: "user", content: "hello" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Hi there");
    expect(output).not.toContain("sk-embed-openai");
  });
});
