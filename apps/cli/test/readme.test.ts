// The README's example, run in bash as written, as a user with a fresh home: `bitrouter` on the
// PATH is the built CLI, OPENAI_BASE_URL points the built-in OpenAI provider at the mock upstream,
// and the example's port 8787 is swapped for a free one so a BitRouter already running here cannot
// collide with it.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { codeBlocks, startMock, type MockUpstream } from "@bitrouter/testkit";
import { freePort } from "./daemon-helpers.js";
import { userShell } from "./user-shell.js";

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(() => mock.close());

it("README: start, health, a chat completion, status, stop, usage", { timeout: 90_000 }, async () => {
  const [script, ...more] = codeBlocks(readFileSync(new URL("../README.md", import.meta.url), "utf8"), "sh");
  expect(more).toEqual([]);
  const user = userShell({ OPENAI_BASE_URL: mock.baseUrl("openai-chat") });
  mock.reset();
  mock.enqueue({ text: "Hello from the provider", usage: { input: 9, output: 4 } });

  const { stdout } = await user.bash(script!.replaceAll("8787", String(await freePort())));

  expect(stdout).toContain(`BitRouter started (pid`);
  expect(stdout).toContain(`{"status":"ok"`);
  expect(stdout).toContain("Hello from the provider");
  expect(stdout).toMatch(/daemon\s+running/);
  expect(stdout).toContain("BitRouter stopped");
  expect(stdout).toMatch(/gpt-4o-mini\s+1\s/);
  expect(mock.requests[0]?.headers.authorization).toBe("Bearer sk-...");
});
