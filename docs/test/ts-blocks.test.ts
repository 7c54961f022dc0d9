// Every ts block of the docs is type-checked against the packages' published types (as a user's
// project would be), and runs:
// - `ts run` blocks here, against a BitRouter server on a free port (for 127.0.0.1:8787) whose
//   providers are the testkit mock (and an MCP mock as docs/mcp.md's github-mcp), in a HOME whose
//   ~/.bitrouter has a bitrouter.yaml;
// - a package README's example in that package's test/readme.test.ts, which reads it from the README
//   (checked below);
// - testkit's README snippet (how a readme.test.ts runs its README) on a README of its own, here;
// - the payments examples in config-blocks.test.ts, against a server on payments.md's configuration
//   (local chains);
// - those marked e2e by `pnpm e2e:clients` (apps/server/e2e/clients), which takes them from the page.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import ts from "typescript";
import { parseConfig, type ProviderConfig, type UpstreamCodec } from "@bitrouter/config";
import { createLogger, startRuntime } from "@bitrouter/server";
import { importExample, type McpMock, type MockUpstream, startMcpMock, startMock } from "@bitrouter/testkit";
import { startAcmeMock } from "../../examples/custom-provider/test/acme-mock.ts";
import { type Block, blocksOf, docFiles, kindOf, ROOT } from "./blocks.js";

// Not those marked e2e (the AI SDK's and LangChain's, which need Node >= 22): the e2e clients suite
// runs them as written with its pinned clients, whose packages (and types) are not the docs package's.
const tsBlocks = docFiles()
  .flatMap(blocksOf)
  .filter((block) => kindOf(block) === "ts" && !block.flags.includes("norun") && !block.flags.includes("e2e"));

/**
 * Where a block's code lives: an example package's README block with relative imports (its
 * src/index.ts in short) in that package's src/, every other beside this test, so its imports resolve
 * as a user's would (the packages' dist types).
 */
function homeOf(block: Block): string {
  const example = /^(examples\/[^/]+)\/README\.md:/.exec(block.where)?.[1];
  return example && /from "\.\.?\//.test(block.code) ? join(ROOT, example, "src") : join(import.meta.dirname, ".blocks");
}

describe("ts blocks type-check", () => {
  const dir = join(import.meta.dirname, ".blocks");
  const files = tsBlocks.map((block, i) => join(homeOf(block), `.docs-block-${block.where.replace(/[^\w]+/g, "_")}_${i}.ts`));
  let diagnostics: Map<string, string[]> | undefined;
  const diagnose = () => {
    if (diagnostics) return diagnostics;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // A module (top-level await) of its own, so names never clash between blocks.
    tsBlocks.forEach((block, i) => writeFileSync(files[i]!, `${block.code}\nexport {};\n`));
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2023,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
    });
    diagnostics = new Map(files.map((file) => [file, []]));
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const file = diagnostic.file?.fileName;
      const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 : 0;
      diagnostics.get(file ?? "")?.push(`line ${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`);
    }
    rmSync(dir, { recursive: true, force: true });
    for (const file of files) rmSync(file, { force: true });
    return diagnostics;
  };
  it.each(tsBlocks.map((block, i) => [block.where, i] as const))("%s", { timeout: 120_000 }, (_where, i) => {
    expect(diagnose().get(files[i]!)).toEqual([]);
  });
});

describe("ts blocks marked run: run against a server whose providers are the mock", () => {
  const runnable = tsBlocks.filter((block) => block.flags.includes("run"));
  let mock: MockUpstream;
  let mcp: McpMock;
  beforeAll(async () => {
    mock = await startMock();
    // The MCP server docs/mcp.md configures as github-mcp, with the tool its example calls.
    mcp = await startMcpMock({ tools: { create_issue: { run: (args) => `created ${String(args.title)}` } } });
  });
  afterAll(async () => {
    await mock.close();
    await mcp.close();
  });

  it("there are such blocks", () => expect(runnable.length).toBeGreaterThan(3));
  it.each(runnable.map((block) => [block.where, block] as const))("%s", async (_where, block) => {
    const env = {
      OPENAI_API_KEY: "sk-docs",
      OPENAI_BASE_URL: mock.baseUrl("openai-chat"),
      ANTHROPIC_API_KEY: "sk-ant-docs",
      ANTHROPIC_BASE_URL: mock.baseUrl("anthropic"),
    };
    const runtime = await startRuntime({
      load: () => parseConfig(`providers:\n  github-mcp:\n    api_protocol: mcp\n    api_base: ${mcp.url}\n`, { env }).config,
      paths: { runDir: tmpdir() },
      listen: "127.0.0.1:0",
      logger: createLogger({ level: "error" }),
    });
    // The reader's environment: a home with the quick start's ~/.bitrouter/bitrouter.yaml, a token.
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-ts-"));
    mkdirSync(join(home, ".bitrouter"));
    writeFileSync(join(home, ".bitrouter/bitrouter.yaml"), "models:\n  default:\n    endpoints:\n      - { provider: openai, model_id: gpt-4o-mini }\n");
    const saved = { HOME: process.env.HOME, BITROUTER_TOKEN: process.env.BITROUTER_TOKEN };
    Object.assign(process.env, { HOME: home, BITROUTER_TOKEN: "unused-in-open-mode" });
    try {
      mock.reset();
      mock.enqueue({ text: "Hello from the docs" });
      const calls = mcp.calls.length;
      await importExample(block.code.replaceAll("127.0.0.1:8787", new URL(runtime.url).host), import.meta.url);
      if (block.code.includes("127.0.0.1:8787"))
        expect(mock.requests.length + mcp.calls.length - calls, "the example reached an upstream through BitRouter").toBeGreaterThan(0);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(home, { recursive: true, force: true });
      await runtime.shutdown();
    }
  });
});

/** A package README's example: the package's own test/readme.test.ts runs it against the mocks. */
const packageReadmeTest = (block: Block): string | undefined => {
  const test = block.where.replace(/README\.md:\d+$/, "test/readme.test.ts");
  return /^(packages|apps)\/[^/]+\/README\.md:/.test(block.where) && existsSync(join(ROOT, test)) ? test : undefined;
};

describe("package README examples: their package's test/readme.test.ts runs them, read from the README", () => {
  const byReadmeTest = tsBlocks.filter((block) => !block.flags.includes("run") && packageReadmeTest(block));
  it("there are such blocks", () => expect(byReadmeTest.length).toBeGreaterThan(5));
  it.each(byReadmeTest.map((block) => [block.where, block] as const))("%s", (_where, block) => {
    const test = readFileSync(join(ROOT, packageReadmeTest(block)!), "utf8");
    // The test takes the README's one ts block itself (tsExample throws unless there is exactly one), and runs it.
    expect(test).toMatch(/importExample\(tsExample\(new URL\("\.\.\/README\.md", import\.meta\.url\)\), import\.meta\.url\)/);
    expect(tsBlocks.filter((other) => other.where.startsWith(block.where.replace(/:\d+$/, ":")))).toHaveLength(1);
  });
});

describe("testkit's README snippet runs a README's example as a readme.test.ts does", () => {
  const snippet = tsBlocks.find((block) => block.where.startsWith("packages/testkit/README.md:") && block.code.includes("tsExample(new URL"));
  it("runs the ts block of ../README.md beside it", async () => {
    expect(snippet).toBeDefined();
    // A package of its own: <dir>/README.md with one example, the snippet in <dir>/test/.
    const dir = join(import.meta.dirname, ".readme-demo");
    mkdirSync(join(dir, "test"), { recursive: true });
    writeFileSync(
      join(dir, "README.md"),
      '# demo\n\n```ts\nimport { parseDirectModel } from "@bitrouter/config";\nconsole.log(parseDirectModel("openai:gpt-4o"));\n```\n',
    );
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await importExample(snippet!.code, new URL("./.readme-demo/test/", import.meta.url));
      expect(log.mock.calls).toEqual([[{ provider: "openai", modelId: "gpt-4o" }]]);
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("an example package's README outline runs as its src/index.ts", () => {
  const outlines = tsBlocks.filter((block) => !block.flags.includes("run") && homeOf(block).startsWith(join(ROOT, "examples")));
  it("there is such a block", () => expect(outlines.length).toBeGreaterThan(0));
  it.each(outlines.map((block) => [block.where, block] as const))("%s: its provider routes a request to the service", async (where, block) => {
    const dir = homeOf(block);
    const { provider, protocols } = (await importExample(block.code, pathToFileURL(join(dir, "x")))) as {
      provider: ProviderConfig;
      protocols: Record<string, UpstreamCodec>;
    };
    // The README's own bitrouter.yaml names it by package; the key and base URL come from the env_prefix it sets.
    const yaml = blocksOf(where.replace(/:\d+$/, "")).find((b) => b.lang === "yaml" && b.code.includes("package:"))!.code;
    const acme = await startAcmeMock();
    const env = { ACME_KEY: "acme-docs-key", [`${provider.env_prefix}_BASE_URL`]: acme.baseUrl };
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-example-"));
    const runtime = await startRuntime({
      load: () => parseConfig(yaml, { env, packages: { acme: provider }, protocols }).config,
      paths: { runDir: home },
      listen: "127.0.0.1:0",
      logger: createLogger({ level: "error" }),
    });
    try {
      acme.enqueue({ text: "hello from acme" });
      const answer = await fetch(`${runtime.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "default", messages: [{ role: "user", content: "Hi" }] }),
      });
      expect(answer.status, await answer.clone().text()).toBe(200);
      expect(((await answer.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("hello from acme");
      // The model the README's `default` maps to, which the outline's catalog must have.
      const modelId = parseConfig(yaml, { env, packages: { acme: provider }, protocols }).config.models.default!.endpoints[0]!.model_id;
      expect(Object.keys(provider.models ?? {})).toContain(modelId);
      expect(acme.requests.map((request) => request.body.model)).toEqual([modelId]);
      expect(acme.requests[0]!.headers.authorization).toBe("Bearer acme-docs-key");
    } finally {
      await runtime.shutdown();
      await acme.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
