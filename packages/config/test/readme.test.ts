// The README's example, run as written with a user's home directory and environment.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import { codeBlocks, importExample, tsExample } from "@bitrouter/testkit";
import { availableProviders, parseConfig } from "../src/index.js";

let home: string | undefined;
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  if (home) rmSync(home, { recursive: true, force: true });
});

it("README: loads the home's bitrouter.yaml and .env, and names the line of a mistake", async () => {
  home = mkdtempSync(join(tmpdir(), "bitrouter-config-readme-"));
  writeFileSync(join(home, "bitrouter.yaml"), "models:\n  smart:\n    endpoints:\n      - { provider: openai, model_id: gpt-4o }\n");
  writeFileSync(join(home, ".env"), "OPENAI_API_KEY=sk-from-dotenv\n", { mode: 0o600 });
  vi.stubEnv("BITROUTER_HOME", home);
  vi.stubEnv("OPENAI_API_KEY", undefined);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);

  expect(log.mock.calls[0]).toEqual([join(home, "bitrouter.yaml"), ["smart"], "openai key set", []]);
  const message = String(log.mock.calls[1]?.[0]);
  expect(message).toContain("bitrouter.yaml:3");
  expect(message).toContain("stratgy");
  expect(message).toContain("strategy");
});

it("CONTRIBUTING: the OpenAI-compatible provider example is a valid configuration with its key from the environment", () => {
  const [yaml, ...more] = codeBlocks(readFileSync(new URL("../../../CONTRIBUTING.md", import.meta.url), "utf8"), "yaml");
  expect(more).toEqual([]);

  const { config, warnings } = parseConfig(yaml!, { env: { TOGETHER_API_KEY: "tg-key" } });

  expect(warnings).toEqual([]);
  expect(config.providers.together).toMatchObject({ api_protocol: "openai", api_base: "https://api.together.xyz/v1", api_key: "tg-key" });
  expect(availableProviders(config).map((p) => p.name)).toEqual(["together"]);
});
