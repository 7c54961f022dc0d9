// The agent skill (skills/bitrouter/SKILL.md) tells a coding agent which commands to run and what
// their output means. These tests keep it true: every `bitrouter` command line it shows parses
// with the CLI's real commands and flags, and its steps, run in bash as written by a user with two
// provider keys, print what the skill says they print. Adaptations: `bitrouter` on the PATH is the
// built CLI, the providers' base URLs point at the mock upstream, and the server listens on a free
// port instead of 8787 (so a BitRouter already running here cannot collide with it).
import { execFile } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeBlocks, startMock, type MockUpstream } from "@bitrouter/testkit";
import { freePort } from "./daemon-helpers.js";
import { userShell } from "./user-shell.js";

const SKILL = readFileSync(new URL("../../../skills/bitrouter/SKILL.md", import.meta.url), "utf8");
const SH = codeBlocks(SKILL, "sh");
const CLI_MODULE = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** Shell words of one command line: quotes removed, a trailing `# comment` dropped. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === " " || c === "\t") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "#" && word === undefined) {
      break;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Every `bitrouter ...` command the skill shows: lines of its sh blocks and inline code spans. */
function bitrouterCommands(): string[][] {
  const lines = SH.flatMap((block) => block.replaceAll("\\\n", " ").split("\n"));
  const spans = [...SKILL.matchAll(/`((?:pnpm )?bitrouter [^`<]*)`/g)].map((m) => m[1]!);
  return [...lines, ...spans]
    .map((line) => shellWords(line.trim()))
    .map((words) => (words[0] === "pnpm" ? words.slice(1) : words))
    .filter((words) => words[0] === "bitrouter")
    .map((words) => words.slice(1));
}

function block(startsWith: string): string {
  const found = SH.find((b) => b.startsWith(startsWith));
  if (found === undefined) throw new Error(`SKILL.md has no sh block starting with ${JSON.stringify(startsWith)}`);
  return found;
}

describe("the agent skill", () => {
  it("has the front matter agents load: a name matching its folder and a description of when to use it", () => {
    const front = /^---\nname: (.+)\ndescription: (.+)\n---\n/.exec(SKILL);
    expect(front?.[1]).toBe("bitrouter");
    expect(front?.[2]?.length).toBeLessThanOrEqual(1024);
    expect(front?.[2]).toMatch(/Use when/);
  });

  it("shows only bitrouter commands and flags the CLI accepts", async () => {
    const commands = bitrouterCommands();
    expect(commands.length).toBeGreaterThan(10);
    // Parsed (not run) by the built CLI's own clipanion definitions, in a plain Node process.
    const check = `
      const { buildCli } = await import(${JSON.stringify(pathToFileURL(CLI_MODULE).href)});
      const cli = buildCli();
      const refused = [];
      for (const args of JSON.parse(process.argv[1])) {
        try { cli.process(args); } catch (error) { refused.push("bitrouter " + args.join(" ") + ": " + error.message.split("\\n")[0]); }
      }
      console.log(JSON.stringify(refused));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", check, JSON.stringify(commands)]);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});

describe("the agent skill, run as written", () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMock();
  });
  afterAll(() => mock.close());

  it("finds the keys by name without printing a value, configures, starts and verifies", { timeout: 90_000 }, async () => {
    const user = userShell({
      OPENAI_API_KEY: "sk-openai-secret",
      ANTHROPIC_API_KEY: "sk-ant-secret",
      OPENAI_BASE_URL: mock.baseUrl("openai-chat"),
      ANTHROPIC_BASE_URL: mock.baseUrl("anthropic"),
    });
    const home = user.home;
    mock.reset();

    writeFileSync(join(home, ".bashrc"), "export GEMINI_API_KEY=gemini-secret\n");
    const found = await user.bash(block("for v in"));
    expect(found.stdout).toContain("OPENAI_API_KEY is set");
    expect(found.stdout).toContain("ANTHROPIC_API_KEY is set");
    expect(found.stdout).toContain("export GEMINI_API_KEY=");
    expect(found.stdout).not.toMatch(/secret/);

    const init = await user.bash(block("bitrouter init"));
    expect(init.stdout).toMatch(/anthropic: .* accepted the key/);
    expect(init.stdout).toMatch(/openai: .* accepted the key/);
    expect(init.stdout).toContain("Wrote:");
    expect(readFileSync(join(home, ".bitrouter", "bitrouter.yaml"), "utf8")).not.toMatch(/secret/);

    const port = String(await freePort());
    appendFileSync(join(home, ".bitrouter", "bitrouter.yaml"), `server:\n  listen: 127.0.0.1:${port}\n`);
    const start = await user.bash(block("bitrouter start"));
    expect(start.stdout).toContain(`BitRouter started (pid`);
    expect(start.stdout).toContain(`listening on http://127.0.0.1:${port}`);

    mock.reset();
    mock.enqueue({ text: "OK" });
    const verify = await user.bash(block("curl -s http://127.0.0.1:8787/health").replaceAll("8787", port));
    expect(verify.stdout).toMatch(/\{"status":"ok","uptime_s":\d+\}/);
    expect(verify.stdout).toMatch(/daemon\s+running \(pid \d+/);
    expect(verify.stdout).toMatch(/anthropic\s+anthropic\s+\S+\s+present/);
    expect(verify.stdout).toContain('"content":"OK"');
    // The virtual model `smart` tried its first endpoint.
    expect(mock.requests[0]).toMatchObject({ protocol: "anthropic", body: { model: "claude-sonnet-4-5" } });
  });
});
