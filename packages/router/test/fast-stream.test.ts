import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "@bitrouter/config";
import { createRouter } from "../src/index.js";
import type { CompletionRecord, InboundResult } from "../src/index.js";

/**
 * The fast path's stream as a real upstream sends it: TCP cuts events anywhere, so an event (the
 * usage chunk included) may arrive in pieces, and several events may arrive together.
 */
const chunk = (body: object) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", ...body })}\n\n`;
const delta = (content: string) => chunk({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const events = [
  chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
  delta("one "),
  delta("two "),
  delta("three "),
  delta("four"),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
  chunk({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 } }),
  "data: [DONE]\n\n",
];
const whole = events.join("");
/** Cuts: inside the first content event, between two events, inside the finish and inside the usage chunk. */
const cuts = [events[0]!.length + 10, events.slice(0, 3).join("").length, events.slice(0, 5).join("").length + 20, whole.length - 40, whole.length];

let upstream: Server;
let origin: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on("end", async () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      let from = 0;
      for (const to of cuts) {
        // Each piece on its own read: flushed, then a pause.
        await new Promise<void>((resolve) => res.write(whole.slice(from, to), () => resolve()));
        await new Promise((resolve) => setTimeout(resolve, 5));
        from = to;
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

function router(records: CompletionRecord[]) {
  const yaml = `inherit_defaults: false\nproviders:\n  oai:\n    api_protocol: openai\n    api_base: ${origin}/v1\n    api_key: k\n    models: { m: {} }\n`;
  return createRouter(parseConfig(yaml, { env: {} }).config, { hooks: [{ name: "meter", onComplete: (r) => records.push(r) }] });
}

const body = (extra: object = {}) => JSON.stringify({ model: "oai:m", stream: true, messages: [{ role: "user", content: "x" }], ...extra });

/** The `data:` payloads a client parses out of the text. */
const payloads = (text: string) =>
  text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6));

describe("fast path streams cut anywhere", () => {
  it("reach the caller whole, without the usage chunk it did not ask for, and are metered (async iterator)", async () => {
    const records: CompletionRecord[] = [];
    const r = router(records);
    const res = await r.fetch(
      new Request("http://router.test/v1/chat/completions", { method: "POST", body: body(), headers: { "content-type": "application/json" } }),
    );
    const got = payloads(await res.text());
    expect(got).toEqual(payloads(whole).filter((p) => !p.includes('"usage"')));
    expect(records[0]).toMatchObject({ status: 200, usage: { inputTokens: 7, outputTokens: 4 } });
    await r.close();
  });

  it("reach a Node writer whole through pipeTo, usage chunk included when the caller asked for it", async () => {
    const records: CompletionRecord[] = [];
    const r = router(records);
    const controller = new AbortController();
    const result: InboundResult = await r.handle({
      protocol: "openai-chat",
      body: body({ stream_options: { include_usage: true } }),
      headers: new Headers(),
      requestId: "t1",
      signal: controller.signal,
      controller,
    });
    expect(result.type).toBe("stream");
    if (result.type !== "stream") return;
    const written: Buffer[] = [];
    const out = new Writable({
      write(data: Buffer, _encoding, done) {
        written.push(data);
        done();
      },
    });
    expect(result.body.pipeTo).toBeDefined();
    await result.body.pipeTo!(out);
    expect(Buffer.concat(written).toString()).toBe(whole);
    expect(records[0]).toMatchObject({ status: 200, usage: { inputTokens: 7, outputTokens: 4 } });
    await r.close();
  });
});
