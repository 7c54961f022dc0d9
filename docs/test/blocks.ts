// The fenced code blocks of the documentation, with their kind and markers.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Block {
  /** `docs/auth.md:29`: the file (from the repository root) and the line of the opening fence. */
  where: string;
  lang: string;
  /** Words after the language: `norun` (cannot run here: real keys, external services), `bad` (a deliberate error example). */
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
