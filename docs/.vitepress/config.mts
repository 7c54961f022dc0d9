// The docs site: docs/ as VitePress pages. `pnpm docs:build` generates the references and the API
// pages first (scripts/docs/build.mjs), then builds this into docs/.vitepress/dist.
import { readdirSync } from "node:fs";
import { defineConfig } from "vitepress";

/** The API pages TypeDoc wrote (docs/api/@bitrouter/<package>.md), one sidebar entry each. */
function apiPages() {
  const dir = new URL("../api/@bitrouter/", import.meta.url);
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(".md"));
  } catch {
    // Not generated yet: `pnpm docs:build` runs TypeDoc before the site build.
  }
  return files.sort().map((file) => ({ text: `@bitrouter/${file.slice(0, -3)}`, link: `/api/@bitrouter/${file.slice(0, -3)}` }));
}

export default defineConfig({
  title: "BitRouter",
  description: "A self-hosted LLM API router",
  // The docs test and the package's own files are not pages.
  srcExclude: ["test/**", "node_modules/**"],
  // GitHub shows a folder's README.md; the site serves it as the folder's index.
  rewrites: { "integrations/README.md": "integrations/index.md" },
  cleanUrls: true,
  // The pages are written for GitHub too, where `<home>` in prose is text: never raw HTML here.
  markdown: { html: false },
  // The local search index is one large chunk by design.
  vite: { build: { chunkSizeWarningLimit: 2048 } },
  lastUpdated: false,
  themeConfig: {
    search: { provider: "local" },
    nav: [
      { text: "Guide", link: "/" },
      { text: "Configuration", link: "/reference/configuration" },
      { text: "CLI", link: "/reference/cli" },
      { text: "API", link: "/api/" },
    ],
    sidebar: [
      {
        text: "Guide",
        items: [
          { text: "Quick start", link: "/" },
          { text: "Configuration", link: "/configuration" },
          { text: "The bitrouter command", link: "/cli" },
          { text: "Architecture", link: "/architecture" },
          { text: "Protocol mapping", link: "/protocol-mapping" },
          { text: "Guardrails", link: "/guardrails" },
          { text: "Auth and API keys", link: "/auth" },
          { text: "Store and metering", link: "/store" },
          { text: "MCP tool gateway", link: "/mcp" },
          { text: "Payments", link: "/payments" },
          { text: "Observability", link: "/observability" },
          { text: "Performance", link: "/performance" },
          { text: "Reliability", link: "/reliability" },
        ],
      },
      {
        text: "Integrations",
        items: [
          { text: "Overview", link: "/integrations/" },
          { text: "Claude Code", link: "/integrations/claude-code" },
          { text: "Codex CLI", link: "/integrations/codex" },
          { text: "Gemini CLI", link: "/integrations/gemini-cli" },
          { text: "Vercel AI SDK", link: "/integrations/ai-sdk" },
          { text: "LangChain.js", link: "/integrations/langchain" },
        ],
      },
      {
        text: "Reference",
        items: [
          { text: "Configuration (bitrouter.yaml)", link: "/reference/configuration" },
          { text: "CLI commands", link: "/reference/cli" },
        ],
      },
      { text: "API (TypeDoc)", link: "/api/", items: apiPages() },
    ],
  },
});
