// The package as a user installs it: packed (`pnpm pack`, with the @bitrouter packages it needs) and
// served by a loopback npm registry (scripts/registry.mjs), installed into a home dir with
// `npm install --prefix <home> @bitrouter-examples/provider-acme`, named in bitrouter.yaml, and served
// by the `bitrouter` CLI; then a reload after editing the yaml, and a package that is not installed.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packWorkspace } from "../../../scripts/pack.mjs";
import { type Registry, startRegistry } from "../../../scripts/registry.mjs";
import { startAcmeMock, type AcmeMock } from "./acme-mock.js";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const REPO = join(PACKAGE_DIR, "../..");
const BIN = join(REPO, "apps/cli/dist/bin.js");
const NAME = "@bitrouter-examples/provider-acme";

let mock: AcmeMock;
/** The temp directories this file made, removed at the end. */
const temps: string[] = [];
const registries: Registry[] = [];
beforeAll(async () => {
  mock = await startAcmeMock();
});
afterAll(async () => {
  await mock?.close();
  for (const registry of registries) registry.close();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/**
 * The packed package installed into a fresh home with npm, its @bitrouter/providers peer (and what
 * that needs) packed as well: npm installs the peer itself.
 */
async function installedHome(): Promise<string> {
  for (const file of [join(PACKAGE_DIR, "dist/index.js"), BIN]) expect(existsSync(file), `${file} is missing: run pnpm build`).toBe(true);
  const work = mkdtempSync(join(tmpdir(), "bitrouter-acme-install-"));
  temps.push(work);
  // dist/ is current: turbo builds before it tests (a rebuild here would race other test files).
  const { tarballs } = packWorkspace([NAME], join(work, "tarballs"), { build: false, peers: true });
  const registry = await startRegistry(tarballs);
  registries.push(registry);
  const home = join(work, "home");
  mkdirSync(home);
  execFileSync("npm", ["install", "--prefix", home, "--loglevel=error", NAME], { stdio: "pipe", env: { ...process.env, ...registry.env } });
  return home;
}

function yaml(extra = ""): string {
  return `inherit_defaults: false
providers:
  acme:
    package: "${NAME}"
    api_base: ${mock.baseUrl}
    api_key: acme-secret-123456
models:
  default:
    endpoints:
      - { provider: acme, model_id: acme-large }
${extra}`;
}

interface Served {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<number | null>;
}

async function serve(home: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--home-dir", home, "--listen", "127.0.0.1:0"], { env: { PATH: process.env.PATH ?? "", HOME: home } });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
    child.stdout!.on("data", () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", () => reject(new Error(`serve exited:\n${out}`)));
  });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.kill("SIGTERM");
    });
  return { child, url, output: () => out, stop };
}

describe("the packed provider package, installed into a home dir", () => {
  it("is loaded by name by `bitrouter serve`, answers the OpenAI SDK, and a reload picks up a second model", { timeout: 180_000 }, async () => {
    const home = await installedHome();
    // Copies, not workspace links.
    for (const name of [NAME, "@bitrouter/providers"]) expect(realpathSync(join(home, "node_modules", name)).startsWith(realpathSync(home))).toBe(true);
    writeFileSync(join(home, "bitrouter.yaml"), yaml());
    const server = await serve(home);
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      mock.enqueue({ text: "hello from acme" });
      const answer = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "hi" }] });
      expect(answer.choices[0]!.message.content).toBe("hello from acme");
      expect(mock.requests.at(-1)).toMatchObject({
        path: "/v1/generate",
        body: { model: "acme-large" },
        headers: { authorization: "Bearer acme-secret-123456" },
      });

      writeFileSync(join(home, "bitrouter.yaml"), yaml("  fast:\n    endpoints:\n      - { provider: acme, model_id: acme-mini }\n"));
      server.child.kill("SIGHUP");
      await expect.poll(() => server.output(), { timeout: 20_000 }).toContain("configuration reloaded");
      expect((await client.models.list()).data.map((m) => m.id)).toEqual(expect.arrayContaining(["default", "fast"]));
      mock.enqueue({ text: "fast acme" });
      const stream = await client.chat.completions.create({ model: "fast", messages: [{ role: "user", content: "hi" }], stream: true });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      expect(text).toBe("fast acme");
      expect(mock.requests.at(-1)?.body).toMatchObject({ model: "acme-mini", stream: true });
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).not.toContain("acme-secret-123456");
  });

  it("a package that is not installed stops the start with the command that installs it", () => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-acme-missing-"));
    temps.push(home);
    writeFileSync(join(home, "bitrouter.yaml"), yaml());
    const run = spawnSync(process.execPath, [BIN, "serve", "--home-dir", home, "--listen", "127.0.0.1:0"], {
      env: { PATH: process.env.PATH ?? "", HOME: home },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      `providers.acme.package: "${NAME}" is not installed in ${join(home, "node_modules")}; run: npm install --prefix ${home} ${NAME}`,
    );
  });
});
