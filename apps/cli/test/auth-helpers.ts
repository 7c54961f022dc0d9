// Shared by the auth-*.test.ts files: spawn the built CLI with a clean environment.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AccountInfo, getActiveAccount } from "@bitrouter/auth";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const tempDir = (prefix = "bitrouter-auth-") => mkdtempSync(join(tmpdir(), prefix));

/** A fresh home directory path (created by the CLI on first use). */
export const newHome = () => join(tempDir(), "home");

export const keysDir = (home: string) => join(home, ".keys");

function spawnOptions(env: Record<string, string>, home: string) {
  return { cwd: home, env: { PATH: process.env.PATH ?? "", HOME: tempDir("bitrouter-auth-user-"), ...env } };
}

/** Runs `bitrouter <args> --home-dir <home>` (no inherited variables: no stray OWS_PASSPHRASE). */
export function bitrouter(home: string, args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [BIN, ...args, "--home-dir", home], { ...spawnOptions(env, tmpdir()), encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Same, without blocking the event loop (for tests that serve something to the CLI). */
export function bitrouterAsync(home: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, "--home-dir", home], spawnOptions(env, tmpdir()));
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Generates an account with the CLI and returns its public data. */
export async function generateAccount(home: string, env: Record<string, string> = {}, label?: string): Promise<AccountInfo> {
  const run = bitrouter(home, ["account", "-g", ...(label === undefined ? [] : ["--label", label])], env);
  if (run.code !== 0) throw new Error(`account -g failed: ${run.stderr}`);
  const active = await getActiveAccount(keysDir(home));
  if (!active) throw new Error("no active account after account -g");
  return active;
}

export const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The JOSE header of a token (the CLI's tests check alg per chain). */
export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** The keygen token from stdout, checking that stdout holds nothing else. */
export function tokenOf(run: Run): string {
  if (run.code !== 0) throw new Error(`keygen failed (${run.code}): ${run.stderr}`);
  const token = run.stdout.slice(0, -1);
  if (!run.stdout.endsWith("\n") || !JWT.test(token)) throw new Error(`stdout is not a single token line: ${JSON.stringify(run.stdout.slice(0, 80))}`);
  return token;
}
