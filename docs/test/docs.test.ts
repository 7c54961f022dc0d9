// Every code block of the documentation is checked by its kind, so an example that drifts from the
// product fails here instead of misleading a reader. yaml and json blocks run in
// config-blocks.test.ts, ts blocks in ts-blocks.test.ts (payments.md's in config-blocks.test.ts, those
// marked e2e in pnpm e2e:clients); this file
// checks the shell blocks:
// - sh / bash: every `bitrouter ...` (or `pnpm -s bitrouter ...`) command is parsed by the CLI's own
//   parser, so an unknown command or flag fails, and those that need no server (status, init
//   --non-interactive, completion, --version, help) run with the built CLI in a fresh home; a block
//   made only of `bitrouter`, `curl` and `export` commands runs whole in bash against a daemon
//   started in a temp home (curl failing on an HTTP error); other whole scripts run in other tests
//   (README, SKILL.md, the install tests) or need what a test cannot have (a build, another tool);
// A block that cannot be checked here (real API keys, external services, another tool's syntax)
// carries `norun` after its language; the test counts and lists those. Blocks without a language
// are text (directory trees, output) and are not checked.
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockUpstream, startMock } from "@bitrouter/testkit";
import { blocksOf, docFiles, kindOf, ROOT } from "./blocks.js";

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
/** The sh blocks that ran and passed: whole, or only their `bitrouter` commands. */
const ran = new Map<string, "whole" | "commands">();

afterAll(() => {
  const norun = blocks.filter((block) => block.flags.includes("norun"));
  const text = blocks.filter((block) => block.lang === "");
  const rest = checked("sh").filter((block) => !ran.has(block.where));
  console.log(
    [
      `docs: ${blocks.length} code blocks (sh checked here) in ${docFiles().length} files`,
      `  checked: ${Object.entries(tally)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}`,
      `  ran whole: ${[...ran.values()].filter((how) => how === "whole").length}; their bitrouter commands ran: ${[...ran.values()].filter((how) => how === "commands").length}`,
      `  sh blocks whose commands were only parsed: ${rest.length}`,
      `  not run (marked norun): ${norun.length}`,
      ...norun.map((block) => `    ${block.where} (${block.lang})`),
      `  text (no language, not checked): ${text.length}`,
    ].join("\n"),
  );
});

it("every block has a kind these tests check, or says e2e (run by pnpm e2e:clients) or norun", () => {
  const unknown = blocks.filter((block) => block.lang !== "" && !kind(block) && !block.flags.includes("norun") && !block.flags.includes("e2e"));
  expect(unknown.map((block) => `${block.where}: \`\`\`${block.lang}`)).toEqual([]);
});

it("the generated references are current (else: run pnpm docs:build)", async () => {
  // In a plain Node process: the generators import the built packages as a user's script would.
  const check = await run(process.execPath, [join(ROOT, "scripts/docs/build.mjs"), "--check"]).catch((error: { stderr: string }) => error);
  expect(check.stderr).toBe("");
});

/** The words of a shell command line, quotes removed; stops at an operator, a redirect or a comment. */
function words(line: string): string[] {
  const out: string[] = [];
  const token = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\|\||&&|[|;&()<>]|#.*$)|([^\s"'|;&()<>]+)/g;
  let current: string | undefined;
  let last = 0;
  for (const match of line.matchAll(token)) {
    const glued = match.index === last && current !== undefined;
    last = match.index + match[0].length;
    if (match[3] !== undefined) break;
    const word = match[1] ?? match[2] ?? match[4] ?? "";
    if (glued) out[out.length - 1] += word;
    else out.push(word);
    current = word;
  }
  return out;
}

/** Every command of a shell block as its words, `pnpm -s bitrouter x` as `bitrouter x`. */
function commandsOf(script: string): string[][] {
  const commands: string[][] = [];
  const joined = script.replace(/\\\n/g, " ");
  for (const line of joined.split("\n")) {
    // Each command of a line: split at operators and command substitutions.
    for (const part of line.replace(/#.*$/, "").split(/\|\||&&|[|;]|\$\(|`/)) {
      const argv = words(part.trim());
      if (argv[0] === "pnpm" && /^(-s )?bitrouter/.test(argv.slice(1, 3).join(" "))) commands.push(argv.slice(argv.indexOf("bitrouter")));
      else if (argv.length > 0) commands.push(argv);
    }
  }
  return commands;
}

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

describe("sh blocks of bitrouter and curl commands run whole against a started daemon (or their own serve)", () => {
  const BIN = join(ROOT, "apps/cli/dist/bin.js");
  // What such a script may contain; a block with anything else (a build, another tool) runs in
  // another test (README, SKILL.md, install) or not at all. `serve` only as the last command: it
  // runs in the foreground until stopped.
  const scriptable = (argv: string[], i: number, all: string[][]) =>
    ["bitrouter", "curl", "export"].includes(argv[0] ?? "") && (argv[1] !== "serve" || i === all.length - 1);
  const offline = (argv: string[]) => ["--version", "-V", "help", "completion", "status", "init"].includes(argv[1] ?? "");
  const scripts = checked("sh").filter((block) => {
    const commands = commandsOf(block.code);
    // Nothing but offline commands: the test above ran them already.
    return commands.every(scriptable) && !commands.every((argv) => argv[0] === "export" || (argv[0] === "bitrouter" && offline(argv)));
  });
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMock();
  });
  afterAll(() => mock.close());

  it("there are such blocks", () => expect(scripts.length).toBeGreaterThan(2));
  it.each(scripts.map((block) => [block.where, block] as const))("%s", { timeout: 60_000 }, async (_where, block) => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-daemon-"));
    const port = await freePort();
    // ~/.bitrouter of a user who followed the quick start: keys in the environment (the providers'
    // base URLs on the mock), a `smart` model as the agent skill writes it, and a free port for
    // the 8787 the docs say.
    mkdirSync(join(home, ".bitrouter"));
    writeFileSync(
      join(home, ".bitrouter/bitrouter.yaml"),
      `server:\n  listen: 127.0.0.1:${port}\nmodels:\n  smart:\n    endpoints:\n      - { provider: anthropic, model_id: claude-sonnet-4-5 }\n`,
    );
    const env = {
      PATH: `${join(home, "bin")}:${process.env.PATH ?? ""}`,
      HOME: home,
      OPENAI_API_KEY: "sk-docs",
      ANTHROPIC_API_KEY: "sk-ant-docs",
      OPENAI_BASE_URL: mock.baseUrl("openai-chat"),
      ANTHROPIC_BASE_URL: mock.baseUrl("anthropic"),
    };
    mkdirSync(join(home, "bin"));
    writeFileSync(join(home, "bin/bitrouter"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    const script = block.code.replace(/pnpm -s bitrouter/g, "bitrouter").replaceAll("127.0.0.1:8787", `127.0.0.1:${port}`);
    const commands = commandsOf(block.code);
    const serves = commands.at(-1)?.[1] === "serve";
    // curl fails on an HTTP error as the reader would notice one; every command must succeed.
    const bash = `set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n${script}`;
    try {
      mock.reset();
      if (serves) {
        // The server in the foreground: once it listens, the reader's first request, then Ctrl-C.
        const child = spawn("bash", ["-c", bash], { cwd: home, env, detached: true });
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
        if (!commands.some((argv) => argv[1] === "start")) await run(process.execPath, [BIN, "start"], { cwd: home, env });
        const shell = await run("bash", ["-c", bash], { cwd: home, env }).catch((error: { stdout: string; stderr: string }) => ({ ...error, failed: true }));
        expect(shell, `${shell.stdout}\n${shell.stderr}`).not.toHaveProperty("failed");
      }
      if (serves || block.code.includes("/v1/chat/completions"))
        expect(mock.requests.length, "the request reached a provider through BitRouter").toBeGreaterThan(0);
      ran.set(block.where, "whole");
    } finally {
      await run(process.execPath, [BIN, "stop"], { cwd: home, env }).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
