/**
 * Runs the code blocks of a Markdown document (a package README, a docs page), so an example that
 * drifts from the API fails a test instead of a reader.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

/** The bodies of the fenced blocks of one language (```ts, ```sh, ...), in document order. */
export function codeBlocks(markdown: string, lang: string): string[] {
  const blocks: string[] = [];
  const fence = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const match of markdown.matchAll(fence)) {
    if (match[1] === lang) blocks.push(match[2] ?? "");
  }
  return blocks;
}

/**
 * Imports a TypeScript example as a module: it is written beside `near` (a test file's
 * `import.meta.url`), so its imports resolve as that package's own imports do, and removed after.
 * Only works under vitest, which compiles the TypeScript on import.
 */
export async function importExample(code: string, near: string | URL): Promise<Record<string, unknown>> {
  const file = new URL(`./.example-${randomUUID()}.ts`, near);
  writeFileSync(file, code);
  try {
    return (await import(file.href)) as Record<string, unknown>;
  } finally {
    rmSync(file, { force: true });
  }
}

/** The one ```ts block of a Markdown file (e.g. a README's example); throws unless there is exactly one. */
export function tsExample(markdownFile: string | URL): string {
  const blocks = codeBlocks(readFileSync(markdownFile, "utf8"), "ts");
  const [block] = blocks;
  if (blocks.length !== 1 || block === undefined) throw new Error(`${String(markdownFile)}: expected one \`\`\`ts block, found ${blocks.length}`);
  return block;
}
