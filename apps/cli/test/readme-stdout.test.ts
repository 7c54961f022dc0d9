// The README's documented way to run the CLI from the repository must give clean stdout: scripts
// capture it (`TOKEN=$(...)`) and pipe it (`--json | jq`).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "./daemon-helpers.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the README's command form", () => {
  it("TOKEN=$(<documented form> keygen) captures the token alone, and --json output parses", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    // The form the README shows for capturing a key, e.g. `TOKEN=$(pnpm -s bitrouter keygen ...)`.
    const form = /TOKEN=\$\(([^)]*?bitrouter) keygen/.exec(readme)?.[1];
    expect(form, "the README shows how to capture a key into TOKEN").toBeDefined();
    const home = join(tempDir(), "home");
    // The user's own environment (pnpm finds its corepack cache under HOME); the BitRouter home is a temp dir.
    const env = { ...process.env, OWS_PASSPHRASE: "", BITROUTER_HOME: "" };
    const account = await sh(`${form} account -g --home-dir ${home}`, ROOT, env);
    expect(account.code, account.stderr).toBe(0);

    const captured = await sh(`TOKEN=$(${form} keygen --exp 1h --home-dir ${home}) && printf '%s' "$TOKEN"`, ROOT, env);
    expect(captured.code, captured.stderr).toBe(0);
    expect(captured.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

    const status = await sh(`${form} status --json --home-dir ${home}`, ROOT, env);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { paths: { home: string } }).paths.home).toBe(home);
  });
});
