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

/** A test that runs blocks whole: its name, its file (from the repository root), and the blocks it runs. */
export interface Runner {
  name: string;
  test: string;
  matches(block: Block): boolean;
}

const inFile = (block: Block, file: string) => block.where.startsWith(`${file}:`);
const packageReadme = (block: Block) => /^(packages|apps)\/[^/]+\/README\.md:/.test(block.where);

/** The yaml, json and ts runners (sh: see docs.test.ts). */
export const CODE_RUNNERS: Runner[] = [
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
    name: "a real client's code or config, as written (pnpm e2e:clients)",
    test: "apps/server/e2e/clients/{sdks,codex}.e2e.ts",
    matches: (b) => b.flags.includes("e2e"),
  },
];
