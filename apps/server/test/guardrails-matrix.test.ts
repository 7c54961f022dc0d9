/**
 * Guardrails in every inbound protocol, stream and non-stream, through the real server with each
 * official SDK: an API key going up is redacted before the provider sees it; a dangerous command
 * coming down is refused with the protocol's own error; a warn-only pattern passes and is logged.
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

const KEY = "AKIAIOSFODNN7EXAMPLE";
const EMAIL = "jane.doe@example.com";

let mock: MockUpstream;
let server: TestServer;
beforeAll(async () => {
  mock = await startMock();
  server = await startTestServer(`${providersYaml(mock)}
guardrails:
  enabled: true
  upgoing: { api_keys: redact, pii_emails: warn }
  downgoing: { suspicious_commands: block }
`);
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

/** Sends `prompt` with each SDK and returns the answer text (throws the SDK's error on refusal). */
const SDKS: Record<string, (prompt: string, stream: boolean) => Promise<string>> = {
  async "openai-chat"(prompt, stream) {
    const c = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x", maxRetries: 0 });
    const params = { model: "ant:claude-test", messages: [{ role: "user" as const, content: prompt }] };
    if (!stream) return (await c.chat.completions.create(params)).choices[0]!.message.content ?? "";
    let text = "";
    for await (const chunk of await c.chat.completions.create({ ...params, stream: true })) text += chunk.choices[0]?.delta.content ?? "";
    return text;
  },
  async "openai-responses"(prompt, stream) {
    const c = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x", maxRetries: 0 });
    const params = { model: "goo:gemini-test", input: prompt };
    if (!stream) return (await c.responses.create(params)).output_text;
    return (await c.responses.stream(params).finalResponse()).output_text;
  },
  async anthropic(prompt, stream) {
    const c = new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0 });
    const params = { model: "oai:gpt-test", max_tokens: 50, messages: [{ role: "user" as const, content: prompt }] };
    const m = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
    return m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
  },
  async google(prompt, stream) {
    const ai = new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: server.url } });
    const params = { model: "oai:gpt-test", contents: prompt };
    if (!stream) return (await ai.models.generateContent(params)).text ?? "";
    let text = "";
    for await (const chunk of await ai.models.generateContentStream(params)) text += chunk.text ?? "";
    return text;
  },
};

describe.each(Object.keys(SDKS))("%s SDK", (inbound) => {
  it.each([false, true])("stream=%s: redacts up, warns and passes, blocks down", async (stream) => {
    const send = SDKS[inbound]!;
    mock.enqueue({ text: ["all ", "good"] });
    expect(await send(`deploy with ${KEY}, mail ${EMAIL}`, stream)).toBe("all good");
    expect(mock.requests[0]!.rawBody).not.toContain(KEY);
    expect(mock.requests[0]!.rawBody).toContain("[REDACTED:api_keys]");
    expect(mock.requests[0]!.rawBody).toContain(EMAIL); // warn: passed through

    mock.enqueue({ text: ["then run ", ":(){ :|:& };:", " to finish"] });
    const refused = await send("how do I stress test?", stream).then(
      (text) => ({ text }),
      (error: unknown) => ({ error: String((error as Error).message ?? error) }),
    );
    expect(refused).toMatchObject({ error: expect.stringContaining("suspicious_commands") });
  });
});

it("logs each violation with its pattern and action, never the matched text", async () => {
  await server.runtime.logger.flush();
  const log = readFileSync(join(server.home, "logs", "bitrouter.log"), "utf8");
  expect(log).toMatch(/pii_emails/);
  expect(log).toMatch(/suspicious_commands/);
  expect(log).not.toContain(KEY);
  expect(log).not.toContain(EMAIL);
});
