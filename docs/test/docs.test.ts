// Every code block of the documentation is run whole by exactly one runner of blocks.ts's RUNNERS
// (checked here), so an example that drifts from the product fails instead of misleading a reader.
// yaml and json blocks run in config-blocks.test.ts, ts blocks in ts-blocks.test.ts (and their
// package's readme.test.ts, or pnpm e2e:clients for those marked e2e); this file runs the shell blocks:
// - every `bitrouter ...` (or `pnpm -s bitrouter ...`) command is parsed by the CLI's own parser, so
//   an unknown command or flag fails, and those that need no server (status, init
//   --non-interactive, completion, --version, help) run with the built CLI in a fresh home;
// - every block runs whole, in bash with `set -euo pipefail`: here "sh: bash" (bitrouter, curl and
//   the shell's tools, against a daemon in a temp home or the block's own serve) and "sh: agent
//   clients" (a client pointed at BitRouter: the SDK of its protocol in its place); install.test.ts
//   the npm installs; .ci/run the clone's development commands (checked below line by line).
// A block that cannot be run (real API keys, external services, another tool's syntax) carries
// `norun` and its reason after its language; the test lists those. Blocks without a language are
// text (directory trees, output) and are not checked.
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockUpstream, startMock } from "@bitrouter/testkit";
import { DEFAULT_MODELS } from "../../apps/server/e2e/clients/install.mjs";
import { blocksOf, CLIENTS, commandsOf, docFiles, kindOf, ROOT, RUNNERS } from "./blocks.js";

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
const kind = kindOf;
const checked = (k: string) => blocks.filter((block) => kind(block) === k && !block.flags.includes("norun"));
const tally: Record<string, number> = {};
const count = (k: string) => {
  tally[k] = (tally[k] ?? 0) + 1;
};
/** The blocks that ran and passed: whole (ts run, sh scripts) or only their `bitrouter` commands. */
const ran = new Map<string, "whole" | "commands">();

afterAll(() => {
  const norun = blocks.filter((block) => block.flags.includes("norun"));
  const text = blocks.filter((block) => block.lang === "");
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
      `  checked here: ${Object.entries(tally)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
      `  ran whole here: ${[...ran.values()].filter((how) => how === "whole").length}; only their bitrouter commands ran: ${[...ran.values()].filter((how) => how === "commands").length}`,
      `  not run (marked norun): ${norun.length}`,
      ...norun.map((block) => `    ${block.where} (${block.lang} ${block.flags.join(" ")})`),
      `  text (no language, not checked): ${text.length}`,
    ].join("\n"),
  );
});

it("every block with a language is run whole by exactly one runner, or says norun and why", () => {
  const owned = blocks.filter((block) => block.lang !== "");
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
