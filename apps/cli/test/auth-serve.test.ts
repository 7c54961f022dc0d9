/**
 * The keys the CLI makes, against the real server: `bitrouter serve` trusts the active account,
 * accepts what `keygen` signs, enforces its model list, and stops accepting a key as soon as
 * `bitrouter keys --revoke` returns.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { decodeToken } from "@bitrouter/auth";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitrouter, bitrouterAsync, generateAccount, newHome, tempDir, tokenOf } from "./auth-helpers.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});

async function serve(home: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, "serve", "--home-dir", home, "--listen", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH ?? "", HOME: tempDir() },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    child.stdout!.on("data", () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", () => reject(new Error(`serve exited:\n${out}`)));
  });
  return { child, url, output: () => out };
}

async function chat(url: string, model: string, token?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  return { status: res.status, body: await res.text() };
}

describe("keys from the CLI against bitrouter serve", () => {
  it("accepts keygen tokens, enforces --models, and refuses a key at once after keys --revoke", async () => {
    const home = newHome();
    await generateAccount(home);
    writeFileSync(
      join(home, "bitrouter.yaml"),
      `inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: upstream-key-123456
    models:
      gpt-test: {}
`,
    );
    const token = tokenOf(bitrouter(home, ["keygen", "--exp", "1h"]));
    const onlyAnthropic = tokenOf(bitrouter(home, ["keygen", "--models", "ant:*"]));
    const server = await serve(home);
    try {
      mock.enqueue({ text: "hello" });
      expect((await chat(server.url, "oai:gpt-test", token)).status).toBe(200);
      expect((await chat(server.url, "oai:gpt-test")).status).toBe(401);
      const denied = await chat(server.url, "oai:gpt-test", onlyAnthropic);
      expect(denied.status).toBe(403);
      expect(denied.body).toContain("oai:gpt-test");

      const revoke = await bitrouterAsync(home, ["keys", "--revoke", decodeToken(token).id]);
      expect(revoke.code).toBe(0);
      expect(revoke.stderr).toContain("The running server refuses it from now on.");
      const refused = await chat(server.url, "oai:gpt-test", token);
      expect(refused.status).toBe(401);
      expect(refused.body).toContain("revoked");
      expect(server.output()).not.toContain(token);
    } finally {
      await new Promise((resolve) => {
        server.child.once("exit", resolve);
        server.child.kill("SIGTERM");
      });
    }
  });

  it("an account created or chosen while the server runs takes effect on reload, and the command says so", async () => {
    const home = newHome();
    bitrouter(home, ["status"]); // scaffold the home: the server starts open (no account yet)
    writeFileSync(
      join(home, "bitrouter.yaml"),
      `inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: upstream-key-123456
    models:
      gpt-test: {}
`,
    );
    const server = await serve(home);
    try {
      mock.enqueue({ text: "open" });
      expect((await chat(server.url, "oai:gpt-test")).status).toBe(200);

      const generated = await bitrouterAsync(home, ["account", "-g"]);
      expect(generated.code).toBe(0);
      expect(generated.stderr).toContain("run `bitrouter reload` to make it require keys signed by this one");
      const reloaded = await bitrouterAsync(home, ["reload"]);
      expect(reloaded.code, reloaded.stderr).toBe(0);
      expect((await chat(server.url, "oai:gpt-test")).status).toBe(401);
      const first = tokenOf(bitrouter(home, ["keygen", "--exp", "1h"]));
      mock.enqueue({ text: "signed" });
      expect((await chat(server.url, "oai:gpt-test", first)).status).toBe(200);

      // A second account made active with --set: trusted after the next reload, the first no longer.
      expect((await bitrouterAsync(home, ["account", "-g"])).code).toBe(0);
      const set = await bitrouterAsync(home, ["account", "--set", "1"]);
      expect(set.code).toBe(0);
      expect(set.stderr).toContain("run `bitrouter reload`");
      expect((await bitrouterAsync(home, ["reload"])).code).toBe(0);
      const second = tokenOf(bitrouter(home, ["keygen", "--exp", "1h"]));
      expect((await chat(server.url, "oai:gpt-test", first)).status).toBe(401);
      mock.enqueue({ text: "second" });
      expect((await chat(server.url, "oai:gpt-test", second)).status).toBe(200);
    } finally {
      await new Promise((resolve) => {
        server.child.once("exit", resolve);
        server.child.kill("SIGTERM");
      });
    }
  });
});
