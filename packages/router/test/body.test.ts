import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { createRouter } from "../src/index.js";
import { scanTopLevel, spliceBody } from "../src/body.js";
import { mockConfig } from "./helpers.js";

const text = (bytes: Buffer | undefined) => bytes?.toString("utf8");

describe("splicing a request body", () => {
  it("replaces only the top-level model, leaving nested ones, strings and whitespace alone", () => {
    const content = JSON.stringify('say "model": \\"x\\" {[ and end with a backslash \\');
    const raw = `{ "messages": [{"role":"user","content":${content}}], "tools":[{"model":"inner"}],\n  "model" : "oai:gpt-test" , "n": 1 }`;
    expect(text(spliceBody(raw, { model: "gpt-test" }))).toBe(raw.replace('"oai:gpt-test"', '"gpt-test"'));
    expect(JSON.parse(text(spliceBody(raw, { model: "gpt-test" }))!)).toEqual({ ...JSON.parse(raw), model: "gpt-test" });
  });

  it("adds fields before the closing brace, and reads escaped keys as JSON.parse does", () => {
    const raw = `{"mod\\u0065l":"a","stream":true}`;
    expect(JSON.parse(text(spliceBody(raw, { model: "b", add: { stream_options: { include_usage: true } } }))!)).toEqual({ model: "b", stream: true, stream_options: { include_usage: true } });
    expect(text(spliceBody(new TextEncoder().encode(`{"contents":[]}`), { add: {} }))).toBe(`{"contents":[]}`);
  });

  it("declines what it cannot splice safely, so the caller re-serialises", () => {
    expect(spliceBody(`{"model":"a","model":"b"}`, { model: "c" })).toBeUndefined(); // repeated key
    expect(spliceBody(`{"messages":[]}`, { model: "c" })).toBeUndefined(); // no model to replace
    expect(spliceBody(`{"model":"a","max_tokens":5}`, { add: { max_tokens: 9 } })).toBeUndefined(); // field exists
    expect(scanTopLevel(Buffer.from(`[1,2]`))).toBeUndefined();
    expect(scanTopLevel(Buffer.from(`{"a":"unterminated}`))).toBeUndefined();
  });
});

describe("the fast path's upstream body", () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMock();
  });
  afterAll(async () => {
    await mock.close();
  });
  beforeEach(() => mock.reset());

  it("is the caller's bytes with the model rewritten: numbers JSON cannot round-trip reach the provider unchanged", async () => {
    const router = createRouter(mockConfig(mock));
    // A seed above 2^53 and a float written as 1.0 would come out of JSON.parse + JSON.stringify as 12345678901234567000 and 1.
    const raw = `{"model":"oai:gpt-test","seed":12345678901234567891,"temperature":1.0,"messages":[{"role":"user","content":"hi"}]}`;
    const res = await router.fetch(new Request("http://router.test/v1/chat/completions", { method: "POST", body: raw, headers: { "content-type": "application/json" } }));
    expect(res.status).toBe(200);
    expect(mock.requests[0]!.rawBody).toBe(raw.replace('"oai:gpt-test"', '"gpt-test"'));
    await router.close();
  });

  it("still merges include_usage into stream_options the caller gave", async () => {
    const router = createRouter(mockConfig(mock));
    const raw = JSON.stringify({ model: "oai:gpt-test", stream: true, stream_options: { include_usage: false }, messages: [{ role: "user", content: "hi" }] });
    const res = await router.fetch(new Request("http://router.test/v1/chat/completions", { method: "POST", body: raw, headers: { "content-type": "application/json" } }));
    await res.text();
    expect(mock.requests[0]!.body).toMatchObject({ model: "gpt-test", stream_options: { include_usage: true } });
    await router.close();
  });
});
