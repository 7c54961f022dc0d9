// The fenced code blocks of the documentation, with their kind and markers.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Block {
  /** `docs/auth.md:29`: the file (from the repository root) and the line of the opening fence. */
  where: string;
  lang: string;
  /**
   * Words after the language: `norun` (cannot run here: real keys, external services), `bad` (a
   * deliberate error example), `run` (a ts example run against a server), `plain` (another program's
   * YAML), `e2e` (a real client's code or config, which `pnpm e2e:clients` runs as written).
   */
  flags: string[];
  code: string;
}

/**
 * The tests that run blocks whole, each with the blocks it claims: every block with a language must
 * be claimed by exactly one (docs.test.ts checks), so none is only parsed or silently skipped. A
 * runner in another package counts only when that test reads the block from the markdown itself.
 * One entry per runner, so lists from different branches merge line by line.
 */
export interface Runner {
  name: string;
  /** The test (or CI script) that runs the blocks, from the repository root. */
  test: string;
  matches(block: Block): boolean;
}

const inFile = (block: Block, file: string) => block.where.startsWith(`${file}:`);
const packageReadme = (block: Block) => /^(packages|apps)\/[^/]+\/README\.md:/.test(block.where);

export const RUNNERS: Runner[] = [
  // Repository development commands (setup, build, the test suites, the bench): CI runs each such
  // line as written in a fresh clone; docs.test.ts checks every line is in .ci/run.
  { name: "ci", test: ".ci/run", matches: (b) => isSh(b) && commandsOf(b.code).some(isDevCommand) },
  // npm installs of the packages (global CLI, a provider package into the home), from packed tarballs.
  { name: "sh: npm install", test: "docs/test/install.test.ts", matches: (b) => isSh(b) && commandsOf(b.code).some((argv) => argv[0] === "npm") },
  // An agent client pointed at BitRouter (its variables, its config file), then a request.
  { name: "sh: agent clients", test: "docs/test/docs.test.ts", matches: (b) => isClientSetup(b) },
  // Everything else a user types in a shell: bitrouter, curl, the files under ~/.bitrouter.
  {
    name: "sh: bash",
    test: "docs/test/docs.test.ts",
    matches: (b) => isSh(b) && !isClientSetup(b) && commandsOf(b.code).every((argv) => BASH_PROGRAMS.includes(argv[0]!)),
  },
  // yaml, json and ts blocks.
  {
    name: "a server on each bitrouter.yaml (yaml plain: what it names answers)",
    test: "docs/test/config-blocks.test.ts",
    matches: (b) => kindOf(b) === "yaml" && !b.flags.includes("norun"),
  },
  { name: "the server's answer has the documented shape", test: "docs/test/config-blocks.test.ts", matches: (b) => kindOf(b) === "json" },
  {
    name: "payments.md's clients pay a server on its configuration",
    test: "docs/test/config-blocks.test.ts",
    matches: (b) => kindOf(b) === "ts" && inFile(b, "docs/payments.md"),
  },
  {
    name: "ts run: against a server whose providers are the mock",
    test: "docs/test/ts-blocks.test.ts",
    matches: (b) => kindOf(b) === "ts" && b.flags.includes("run"),
  },
  {
    name: "a package README's example, read by its test/readme.test.ts",
    test: "{packages,apps}/*/test/readme.test.ts",
    matches: (b) => kindOf(b) === "ts" && !b.flags.includes("run") && packageReadme(b) && !inFile(b, "packages/testkit/README.md"),
  },
  {
    name: "testkit's README snippet, on a README of its own",
    test: "docs/test/ts-blocks.test.ts",
    matches: (b) => kindOf(b) === "ts" && !b.flags.includes("run") && inFile(b, "packages/testkit/README.md"),
  },
  {
    name: "an example package's README outline, as its src/index.ts",
    test: "docs/test/ts-blocks.test.ts",
    matches: (b) => kindOf(b) === "ts" && /^examples\/[^/]+\/README\.md:/.test(b.where),
  },
  {
    name: "a real client's code, as written (pnpm e2e:clients)",
    test: "apps/server/e2e/clients/sdks.e2e.ts",
    matches: (b) => b.flags.includes("e2e"),
  },
];

export const isSh = (block: Block) => ["sh", "bash", "shell"].includes(block.lang) && !block.flags.includes("norun");

/** `bash scripts/setup.sh`, `pnpm test`, `cd packages/x`: a clone's development commands (`pnpm -s bitrouter` is the CLI). */
const isDevCommand = (argv: string[]) => argv[0] === "pnpm" || argv[0] === "cd" || (argv[0] === "bash" && argv[1]?.startsWith("scripts/"));

/** The agent clients docs/test/client.mjs stands in for, and the variables that point a client at BitRouter. */
export const CLIENTS = ["claude", "codex", "gemini"];
const isClientSetup = (block: Block) =>
  (isSh(block) &&
    commandsOf(block.code).some((argv) => CLIENTS.includes(argv[0]!) || (argv[0] === "export" && argv.slice(1).some((a) => /^\w+_BASE_URL=/.test(a))))) ||
  // Codex's config.toml, written to ~/.codex by the same runner before the block after it.
  (block.lang === "toml" && block.where.startsWith("docs/integrations/codex.md:"));

/** What the bash runner provides: the built CLI as `bitrouter`, and a shell's usual tools. */
const BASH_PROGRAMS = [
  "bitrouter",
  "curl",
  "export",
  "unset",
  "source",
  "node",
  "printf",
  "printenv",
  "echo",
  "grep",
  "sort",
  "for",
  "do",
  "done",
  "if",
  "then",
  "fi",
  "true",
  "cp",
  "mkdir",
];

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
export function commandsOf(script: string): string[][] {
  const commands: string[][] = [];
  const joined = script.replace(/\\\n/g, " ");
  for (const line of joined.split("\n")) {
    // Each command of a line: split at operators and command substitutions.
    for (const part of line.replace(/#.*$/, "").split(/\|\||&&|[|;]|\$\(|<\(|`/)) {
      const argv = words(part.trim());
      if (argv[0] === "pnpm" && /^(-s )?bitrouter/.test(argv.slice(1, 3).join(" "))) commands.push(argv.slice(argv.indexOf("bitrouter")));
      else if (argv.length > 0) commands.push(argv);
    }
  }
  return commands;
}

/** Markdown a user reads: the READMEs, the docs pages (not the generated API pages), the agent skill. */
export function docFiles(): string[] {
  const files = ["README.md", "CONTRIBUTING.md"];
  for (const dir of ["packages", "apps", "examples"]) {
    for (const name of readdirSync(join(ROOT, dir))) {
      if (exists(join(ROOT, dir, name, "README.md"))) files.push(`${dir}/${name}/README.md`);
    }
  }
  const walk = (dir: string, skip: string[]) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = `${dir}/${name}`;
      if (skip.includes(path) || name.startsWith(".") || name === "node_modules") continue;
      if (statSync(join(ROOT, path)).isDirectory()) walk(path, skip);
      else if (name.endsWith(".md")) files.push(path);
    }
  };
  // docs/reference is generated from the CLI and schema themselves; docs/api by TypeDoc.
  walk("docs", ["docs/api", "docs/reference"]);
  walk("skills", []);
  return files.filter((file, i) => files.indexOf(file) === i);
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function blocksOf(file: string): Block[] {
  const markdown = readFileSync(join(ROOT, file), "utf8");
  const blocks: Block[] = [];
  const fence = /^([ \t]*)```(\S*)([^\n]*)\n([\s\S]*?)^\1```[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) {
    const line = markdown.slice(0, match.index).split("\n").length;
    const indent = match[1] ?? "";
    const code = (match[4] ?? "")
      .split("\n")
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join("\n");
    blocks.push({
      where: `${relative(ROOT, join(ROOT, file))}:${line}`,
      lang: match[2] ?? "",
      flags: (match[3] ?? "").trim().split(/\s+/).filter(Boolean),
      code,
    });
  }
  return blocks;
}

/** The kind of check a block gets, by its language (undefined: text, or a language no test knows). */
export function kindOf(block: Block): "yaml" | "ts" | "sh" | "json" | undefined {
  return KINDS[block.lang];
}
const KINDS: Record<string, "yaml" | "ts" | "sh" | "json"> = {
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
