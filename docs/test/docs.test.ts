// Every code block of the documentation is checked by its kind, so an example that drifts from the
// product fails here instead of misleading a reader:
// - yaml: a bitrouter.yaml, parsed by parseConfig (a provider with `package:` gets
//   examples/custom-provider's definition) (`yaml bad`: a deliberate error example, must fail;
//   `yaml plain`: another program's YAML, such as a Prometheus config, only parsed as YAML);
// - ts / js: type-checked against the packages' published types (as a user's project would); those
//   marked `ts run` also run, against a BitRouter server on a free port (for 127.0.0.1:8787) whose
//   providers are the testkit mock (and an MCP mock as docs/mcp.md's github-mcp), in a HOME whose
//   ~/.bitrouter has a bitrouter.yaml;
// - sh / bash: every `bitrouter ...` (or `pnpm -s bitrouter ...`) command is parsed by the CLI's own
//   parser, so an unknown command or flag fails, and those that need no server (status, init
//   --non-interactive, completion, --version, help) run with the built CLI in a fresh home; then
//   every block runs whole, in bash with `set -euo pipefail`, by one runner of blocks.ts's RUNNERS:
//   here "sh: bash" (bitrouter, curl and the shell's tools, against a daemon in a temp home or the
//   block's own serve) and "sh: agent clients" (a client pointed at BitRouter: the SDK of its
//   protocol in its place); install.test.ts the npm installs; .ci/run the clone's development
//   commands (checked below line by line);
// - json: parsed (jsonc: comments and trailing commas allowed).
// A block that cannot be run (real API keys, external services, another tool's syntax) carries
// `norun` and its reason after its language; the test counts and lists those. Blocks without a language
// are text (directory trees, output) and are not checked.
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ts from "typescript";
import { ConfigError, parseConfig } from "@bitrouter/config";
import { createLogger, startRuntime } from "@bitrouter/server";
import { importExample, type McpMock, type MockUpstream, startMcpMock, startMock } from "@bitrouter/testkit";
import { protocols as acmeProtocols, provider as acmeProvider } from "@bitrouter-examples/provider-acme";
import { parse as parseYaml, parseDocument } from "yaml";
import { DEFAULT_MODELS } from "../../apps/server/e2e/clients/install.js";
import { type Block, blocksOf, CLIENTS, commandsOf, docFiles, ROOT, RUNNERS } from "./blocks.js";

const run = promisify(execFile);

/** A port nothing listens on now (the docs' 8787 may be taken by a BitRouter the user runs). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

const blocks = docFiles().flatMap(blocksOf);
const KINDS: Record<string, string> = {
  yaml: "yaml",
  yml: "yaml",
  ts: "ts",
  typescript: "ts",
  js: "ts",
  javascript: "ts",
  sh: "sh",
  bash: "sh",
  shell: "sh",
  json: "json",
  jsonc: "json",
};
const kind = (block: Block) => KINDS[block.lang];
const checked = (k: string) => blocks.filter((block) => kind(block) === k && !block.flags.includes("norun"));
const tally: Record<string, number> = {};
const count = (k: string) => {
  tally[k] = (tally[k] ?? 0) + 1;
};
/** A package README's ts example, which that package's own test/readme.test.ts runs against the mocks. */
const runByReadmeTest = (block: Block) =>
  kind(block) === "ts" &&
  /^(packages|apps)\/[^/]+\/README\.md:/.test(block.where) &&
  existsSync(join(ROOT, block.where.replace(/README\.md:\d+$/, "test/readme.test.ts")));
/** The blocks that ran and passed: whole (ts run, sh scripts) or only their `bitrouter` commands. */
const ran = new Map<string, "whole" | "commands">();

afterAll(() => {
  const norun = blocks.filter((block) => block.flags.includes("norun"));
  const text = blocks.filter((block) => block.lang === "");
  const rest = blocks.filter((block) => kind(block) && !block.flags.includes("norun") && !ran.has(block.where));
  const here = "docs/test/docs.test.ts";
  console.log(
    [
      `docs: ${blocks.length} code blocks in ${docFiles().length} files`,
      "  runners (the blocks each claims; those of this file: how many ran whole here):",
      ...RUNNERS.map((runner) => {
        const claimed = blocks.filter(runner.matches);
        const whole = runner.test === here ? `, ran whole: ${claimed.filter((block) => ran.get(block.where) === "whole").length}` : "";
        return `    ${runner.name} (${runner.test}): ${claimed.length}${whole}`;
      }),
      `  claimed by no runner (yaml, json and ts until their runners land): ${blocks.filter((block) => block.lang !== "" && !block.flags.includes("norun") && !RUNNERS.some((r) => r.matches(block))).length}`,
      `  checked here: ${Object.entries(tally)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
      `  ran whole here: ${[...ran.values()].filter((how) => how === "whole").length}; only their bitrouter commands ran: ${[...ran.values()].filter((how) => how === "commands").length}`,
      `  type-checked only (ts): ${rest.filter((block) => kind(block) === "ts").length} (of which run by their package's test/readme.test.ts: ${rest.filter(runByReadmeTest).length}); parsed only (yaml, json): ${rest.filter((block) => kind(block) === "yaml" || kind(block) === "json").length}`,
      `  not run (marked norun): ${norun.length}`,
      ...norun.map((block) => `    ${block.where} (${block.lang} ${block.flags.join(" ")})`),
      `  text (no language, not checked): ${text.length}`,
    ].join("\n"),
  );
});

/** Kinds whose runners land in their own commit (config-blocks.test.ts, ts-blocks.test.ts); drop this line then. */
const pending = (block: Block) => ["yaml", "json", "ts"].includes(kind(block) ?? "");

it("every block with a language is run whole by exactly one runner, or says norun and why", () => {
  const owned = blocks.filter((block) => block.lang !== "" && !pending(block));
  const runners = owned
    .filter((block) => !block.flags.includes("norun"))
    .map((block) => ({ where: block.where, lang: block.lang, runners: RUNNERS.filter((runner) => runner.matches(block)).map((runner) => runner.name) }))
    .filter((claim) => claim.runners.length !== 1);
  expect(runners).toEqual([]);
  // The reason follows the word, in the fence: ```sh norun (needs a real key)
  const silent = owned.filter((block) => block.flags.at(-1) === "norun").map((block) => block.where);
  expect(silent).toEqual([]);
});

it("ci: every line of the blocks CI runs is a command of .ci/run, as written", () => {
  const ci = readFileSync(join(ROOT, ".ci/run"), "utf8")
    .split("\n")
    .filter((line) => !line.trim().startsWith("#"));
  const claimed = blocks.filter(RUNNERS.find((runner) => runner.test === ".ci/run")!.matches);
  expect(claimed.length).toBeGreaterThan(3);
  const missing = claimed.flatMap((block) =>
    block.code
      .replace(/\\\n/g, " ")
      .split("\n")
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line !== "")
      .filter((line) => {
        // The whole line as one command of a .ci/run line (in a subshell or a pipeline, or redirected).
        const command = new RegExp(`(^|[\\s(])${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[\\s);&|>])`);
        return !ci.some((ciLine) => command.test(ciLine));
      })
      .map((line) => `${block.where}: ${line}`),
  );
  expect(missing).toEqual([]);
});

it("the generated references are current (else: run pnpm docs:build)", async () => {
  // In a plain Node process: the generators import the built packages as a user's script would.
  const check = await run(process.execPath, [join(ROOT, "scripts/docs/build.mjs"), "--check"]).catch((error: { stderr: string }) => error);
  expect(check.stderr).toBe("");
});

describe("yaml blocks are valid bitrouter.yaml", () => {
  it.each(checked("yaml").map((block) => [block.where, block] as const))("%s", (_where, block) => {
    count("yaml");
    // A provider named by `package:` gets the example provider package's definition in its place, as
    // loadConfig would hand over an installed package's (this test installs nothing).
    const named = Object.entries((parseYaml(block.code) as { providers?: Record<string, { package?: unknown }> } | null)?.providers ?? {});
    const packages = Object.fromEntries(named.filter(([, p]) => p?.package !== undefined).map(([name]) => [name, acmeProvider]));
    const parse = () => parseConfig(block.code, { env: {}, file: block.where, packages, protocols: acmeProtocols });
    if (block.flags.includes("plain")) expect(parseDocument(block.code).errors).toEqual([]);
    else if (block.flags.includes("bad")) expect(parse).toThrow(ConfigError);
    else parse();
  });
});

describe("json blocks parse", () => {
  it.each(checked("json").map((block) => [block.where, block] as const))("%s", (_where, block) => {
    count("json");
    if (block.lang === "jsonc") expect(ts.parseConfigFileTextToJson(block.where, block.code).error).toBeUndefined();
    else JSON.parse(block.code);
  });
});

/** The argument lists of the `bitrouter` commands in a shell block (`pnpm -s bitrouter x` too). */
function bitrouterCommands(script: string): string[][] {
  return commandsOf(script)
    .filter((argv) => argv[0] === "bitrouter")
    .map((argv) => argv.slice(1));
}

it("finds the bitrouter commands of a script, and the parser refuses an unknown command or flag", async () => {
  const script = 'export X=1\nTOKEN=$(pnpm -s bitrouter keygen --models "openai:*") && bitrouter statuz | jq . # a comment\nbitrouter stop --tiemout 2m\n';
  expect(bitrouterCommands(script)).toEqual([["keygen", "--models", "openai:*"], ["statuz"], ["stop", "--tiemout", "2m"]]);
  expect(Object.keys(await refusedCommands([["status"], ["statuz"], ["stop", "--tiemout", "2m"]]))).toEqual(["statuz", "stop --tiemout 2m"]);
});

/** The commands the built CLI's own clipanion definitions refuse, with the first line of each error (parsed, not run). */
async function refusedCommands(commands: string[][]): Promise<Record<string, string>> {
  // In a plain Node process, as a user's shell would load the built CLI.
  const cliModule = pathToFileURL(join(ROOT, "apps/cli/dist/index.js")).href;
  const script = `
    const { buildCli } = await import(${JSON.stringify(cliModule)});
    const refused = {};
    for (const args of JSON.parse(process.argv[1])) {
      try {
        // Words that match no command reach the bare \`bitrouter\` (the dashboard) as its rest arguments.
        const command = buildCli().process(args);
        if (command.unknown?.length > 0) refused[args.join(" ")] = "unknown command " + command.unknown[0];
      } catch (error) { refused[args.join(" ")] = error.message.split("\\n")[0]; }
    }
    console.log(JSON.stringify(refused));`;
  return JSON.parse((await run(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(commands)])).stdout);
}

describe("sh blocks: every bitrouter command parses", () => {
  let refused: Record<string, string> = {};
  beforeAll(async () => {
    refused = await refusedCommands(checked("sh").flatMap((block) => bitrouterCommands(block.code)));
  });
  it.each(checked("sh").map((block) => [block.where, block] as const))("%s", (_where, block) => {
    count("sh");
    const commands = bitrouterCommands(block.code).map((args) => args.join(" "));
    expect(commands.filter((command) => command in refused).map((command) => `bitrouter ${command}: ${refused[command]}`)).toEqual([]);
  });
});

describe("ts blocks type-check", () => {
  // Written beside this test so their imports resolve as a user's would (the packages' dist types).
  const dir = join(import.meta.dirname, ".blocks");
  const list = checked("ts");
  const files = list.map((block, i) => join(dir, `${block.where.replace(/[^\w]+/g, "_")}_${i}.ts`));
  let diagnostics: Map<string, string[]> | undefined;
  const diagnose = () => {
    if (diagnostics) return diagnostics;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // A module (top-level await) of its own, so names never clash between blocks.
    list.forEach((block, i) => writeFileSync(files[i]!, `${block.code}\nexport {};\n`));
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
    return diagnostics;
  };
  it.each(list.map((block, i) => [block.where, i] as const))("%s", { timeout: 120_000 }, (_where, i) => {
    count("ts");
    expect(diagnose().get(files[i]!)).toEqual([]);
  });
});

describe("sh blocks: the bitrouter commands that need no server run in a fresh home", () => {
  const BIN = join(ROOT, "apps/cli/dist/bin.js");
  const offline = (args: string[]) =>
    ["--version", "-V", "help", "completion", "status"].includes(args[0] ?? "") || (args[0] === "init" && args.includes("--non-interactive"));
  const commands = checked("sh").flatMap((block) =>
    bitrouterCommands(block.code)
      .filter(offline)
      .map((args) => [block.where, args.join(" "), args] as const),
  );
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMock();
  });
  afterAll(() => mock.close());

  it("there are such commands", () => expect(commands.length).toBeGreaterThan(5));
  it.each(commands)("%s: bitrouter %s", async (where, _line, args) => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-"));
    try {
      // A user's environment: keys set, and the providers' base URLs on the mock (init checks the keys).
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: home,
        OPENAI_API_KEY: "sk-docs",
        ANTHROPIC_API_KEY: "sk-ant-docs",
        OPENAI_BASE_URL: mock.baseUrl("openai-chat"),
        ANTHROPIC_BASE_URL: mock.baseUrl("anthropic"),
      };
      await run(process.execPath, [BIN, ...args], { cwd: home, env });
      if (!ran.has(where)) ran.set(where, "commands");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

/** The blocks a runner of this file claims. */
const claimedBy = (name: string) => blocks.filter(RUNNERS.find((runner) => runner.name === name)!.matches);

/**
 * A user's shell: a temp HOME whose ~/.bitrouter/bitrouter.yaml listens on a free port (the docs'
 * 8787 may be taken here) and has the agent skill's `smart` model (plus `routed` names), `bitrouter` on
 * the PATH as the built CLI, keys in the environment and the providers' base URLs on the mock.
 */
async function userHome(mock: MockUpstream, routed: string[] = []) {
  const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-sh-"));
  const port = await freePort();
  mkdirSync(join(home, ".bitrouter"));
  mkdirSync(join(home, "bin"));
  const models = [...new Set(["smart", ...routed])]
    .map((name) => `  ${name}:\n    endpoints:\n      - { provider: anthropic, model_id: claude-sonnet-4-5 }\n`)
    .join("");
  writeFileSync(join(home, ".bitrouter/bitrouter.yaml"), `server:\n  listen: 127.0.0.1:${port}\nmodels:\n${models}`);
  writeFileSync(join(home, "bin/bitrouter"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  const env = {
    PATH: `${join(home, "bin")}:${process.env.PATH ?? ""}`,
    HOME: home,
    OPENAI_API_KEY: "sk-docs",
    ANTHROPIC_API_KEY: "sk-ant-docs",
    OPENAI_BASE_URL: mock.baseUrl("openai-chat"),
    ANTHROPIC_BASE_URL: mock.baseUrl("anthropic"),
  };
  return {
    home,
    port,
    env,
    /** The block as the user's bash runs it: strict mode, curl failing on an HTTP error as the reader would notice one. */
    script: (code: string) =>
      `set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n${code.replace(/pnpm -s bitrouter/g, "bitrouter").replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`)}`,
    async close() {
      await run(process.execPath, [BIN, "stop"], { cwd: home, env }).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
const BIN = join(ROOT, "apps/cli/dist/bin.js");

/** Runs a script in bash; resolves with its output, or with `failed` set. */
function bash(script: string, options: { cwd: string; env: Record<string, string> }) {
  return run("bash", ["-c", script], options).catch((error: { stdout: string; stderr: string }) => ({ ...error, failed: true }));
}

// Substitutions, for every sh block: `pnpm -s bitrouter` (a clone's script) is `bitrouter`, the built
// CLI; 127.0.0.1:8787 is the free port of the home's bitrouter.yaml; the providers are the mock.
describe("sh: bash: the blocks run whole in bash (a daemon started first when they talk to one; or their own serve)", () => {
  const offline = (argv: string[]) => ["--version", "-V", "help", "completion", "status", "init"].includes(argv[1] ?? "");
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMock();
  });
  afterAll(() => mock.close());

  it("there are such blocks", () => expect(claimedBy("sh: bash").length).toBeGreaterThan(10));
  it.each(claimedBy("sh: bash").map((block) => [block.where, block] as const))("%s", { timeout: 60_000 }, async (_where, block) => {
    const user = await userHome(mock);
    const { home, port, env } = user;
    const commands = commandsOf(block.code);
    const bitrouter = commands.filter((argv) => argv[0] === "bitrouter");
    // `init` writes the configuration itself: it starts from a home without one.
    if (bitrouter.some((argv) => argv[1] === "init")) rmSync(join(home, ".bitrouter"), { recursive: true });
    // Commands run from a clone find its skills/ (skills/README.md copies it where agents look).
    cpSync(join(ROOT, "skills"), join(home, "skills"), { recursive: true });
    const serves = bitrouter.at(-1)?.[1] === "serve";
    const startsItself = bitrouter.some((argv) => argv[1] === "start" || argv[1] === "serve");
    const needsDaemon = commands.some((argv) => argv[0] === "curl") || bitrouter.some((argv) => !offline(argv));
    try {
      mock.reset();
      if (serves) {
        // The server in the foreground: once it listens, the reader's first request, then Ctrl-C.
        const child = spawn("bash", ["-c", user.script(block.code)], { cwd: home, env, detached: true });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        try {
          await expect.poll(() => output, { timeout: 30_000 }).toContain(`listening on http://127.0.0.1:${port}`);
          const answer = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: "smart", messages: [{ role: "user", content: "Hi" }] }),
          });
          expect(answer.status, await answer.text()).toBe(200);
        } finally {
          process.kill(-child.pid!, "SIGINT");
        }
        expect(await exited, output).toBe(0);
      } else {
        if (needsDaemon && !startsItself) await run(process.execPath, [BIN, "start"], { cwd: home, env });
        const shell = await bash(user.script(block.code), { cwd: home, env });
        expect(shell, `${shell.stdout}\n${shell.stderr}`).not.toHaveProperty("failed");
      }
      if (serves || block.code.includes("/v1/chat/completions"))
        expect(mock.requests.length, "the request reached a provider through BitRouter").toBeGreaterThan(0);
      ran.set(block.where, "whole");
    } finally {
      await user.close();
    }
  });
});

describe("sh: agent clients: the blocks that point a client at BitRouter run whole, the client's SDK in its place", () => {
  // Substitution: `claude`, `codex` and `gemini` are docs/test/client.mjs, the official SDK of each
  // one's protocol reading what that client reads; a block that only sets variables is followed by
  // the OpenAI SDK created without arguments (as its prose says). The clients' own default model
  // names are routed, as these pages tell the reader to. The real clients run in pnpm e2e:clients.
  const CLIENT = join(import.meta.dirname, "client.mjs");
  const defaults: Record<string, string> = { claude: DEFAULT_MODELS.claude, codex: DEFAULT_MODELS.codex, gemini: DEFAULT_MODELS.gemini[0], openai: "smart" };
  const sh = claimedBy("sh: agent clients").filter((block) => block.lang !== "toml");
  const toml = claimedBy("sh: agent clients").filter((block) => block.lang === "toml");
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMock();
  });
  afterAll(() => mock.close());

  it("there are such blocks", () => expect(sh.length).toBeGreaterThan(4));
  it.each(sh.map((block) => [block.where, block] as const))("%s", { timeout: 60_000 }, async (_where, block) => {
    const user = await userHome(mock, Object.values(defaults));
    const { home, port } = user;
    // The client runs in the user's shell: HOME and PATH, nothing pointing at the mock.
    const env = { HOME: home, PATH: user.env.PATH };
    for (const client of CLIENTS)
      writeFileSync(join(home, "bin", client), `#!/bin/sh\nexec "${process.execPath}" "${CLIENT}" ${client} "${defaults[client]}" "$@"\n`, { mode: 0o755 });
    // The page's config file, before the block after it (codex.md: ~/.codex/config.toml).
    const file = toml.find((config) => config.where.split(":")[0] === block.where.split(":")[0]);
    if (file) {
      mkdirSync(join(home, ".codex"));
      writeFileSync(join(home, ".codex/config.toml"), file.code.replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`));
    }
    const runsClient = commandsOf(block.code).some((argv) => CLIENTS.includes(argv[0]!));
    const code = runsClient ? block.code : `${block.code}\n"${process.execPath}" "${CLIENT}" openai "${defaults.openai}"`;
    try {
      await run(process.execPath, [BIN, "start"], { cwd: home, env: user.env });
      mock.reset();
      mock.enqueue({ text: "OK from the provider" });
      const shell = await bash(user.script(code), { cwd: home, env });
      expect(shell, `${shell.stdout}\n${shell.stderr}`).not.toHaveProperty("failed");
      expect(shell.stdout).toContain("OK from the provider");
      expect(mock.requests.length, "the request reached a provider through BitRouter").toBe(1);
      ran.set(block.where, "whole");
      if (file) ran.set(file.where, "whole");
    } finally {
      await user.close();
    }
  });
});

describe("ts blocks marked run: run against a server whose providers are the mock", () => {
  const runnable = checked("ts").filter((block) => block.flags.includes("run"));
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
      ran.set(block.where, "whole");
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
