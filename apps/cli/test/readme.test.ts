// The README's example, run in bash as written, as a user with a fresh home: `bitrouter` on the
// PATH is the built CLI, OPENAI_BASE_URL points the built-in OpenAI provider at the mock upstream,
// and the example's port 8787 is swapped for a free one so a BitRouter already running here cannot
// collide with it.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { codeBlocks, startMock, type MockUpstream } from "@bitrouter/testkit";
import { BIN, freePort } from "./daemon-helpers.js";

let mock: MockUpstream;
let home: string;
beforeAll(async () => {
  mock = await startMock();
  home = mkdtempSync(join(tmpdir(), "bitrouter-cli-readme-"));
});
afterAll(async () => {
  // A failed run may leave the daemon up: stop it (a no-op when it is not running).
  await promisify(execFile)(process.execPath, [BIN, "stop"], { cwd: home, env: { PATH: process.env.PATH ?? "", HOME: home } }).catch(() => {});
  await mock.close();
  rmSync(home, { recursive: true, force: true });
});

it("README: start, health, a chat completion, status, stop, usage", async () => {
  const [script, ...more] = codeBlocks(readFileSync(new URL("../README.md", import.meta.url), "utf8"), "sh");
  expect(more).toEqual([]);
  const port = await freePort();
  const bin = join(home, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "bitrouter"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  mock.enqueue({ text: "Hello from the provider", usage: { input: 9, output: 4 } });

  const { stdout } = await promisify(execFile)("bash", ["-e", "-c", script!.replaceAll("8787", String(port))], {
    cwd: home,
    env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: home, OPENAI_BASE_URL: mock.baseUrl("openai-chat") },
  });

  expect(stdout).toContain(`BitRouter started (pid`);
  expect(stdout).toContain(`{"status":"ok"`);
  expect(stdout).toContain("Hello from the provider");
  expect(stdout).toMatch(/daemon\s+running/);
  expect(stdout).toContain("BitRouter stopped");
  expect(stdout).toMatch(/gpt-4o-mini\s+1\s/);
  expect(mock.requests[0]?.headers.authorization).toBe("Bearer sk-...");
});
