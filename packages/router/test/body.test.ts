import { describe, expect, it } from "vitest";
import { createRouter } from "../src/index.js";
import { RequestBody, SPLICE_IN_PARTS_FROM, scanTopLevel, spliceBody } from "../src/body.js";
import { mockConfig, useMock } from "./helpers.js";

const text = (bytes: Buffer | Buffer[] | undefined) => (Array.isArray(bytes) ? Buffer.concat(bytes) : bytes)?.toString("utf8");
const scan = (raw: string) => scanTopLevel(Buffer.from(raw));
const splice = (raw: string, edit: Parameters<typeof spliceBody>[1]) => spliceBody(scan(raw)!, edit);

describe("splicing a request body", () => {
  it("replaces only the top-level model, leaving nested ones, strings and whitespace alone", () => {
    const content = JSON.stringify('say "model": \\"x\\" {[ and end with a backslash \\');
    const raw = `{ "messages": [{"role":"user","content":${content}}], "tools":[{"model":"inner"}],\n  "model" : "oai:gpt-test" , "n": 1 }`;
    expect(text(splice(raw, { model: "gpt-test" }))).toBe(raw.replace('"oai:gpt-test"', '"gpt-test"'));
    expect(JSON.parse(text(splice(raw, { model: "gpt-test" }))!)).toEqual({ ...JSON.parse(raw), model: "gpt-test" });
  });

  it("adds fields before the closing brace, and reads escaped keys as JSON.parse does", () => {
    const raw = `{"mod\\u0065l":"a","stream":true}`;
    expect(JSON.parse(text(splice(raw, { model: "b", add: { stream_options: { include_usage: true } } }))!)).toEqual({
      model: "b",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(text(splice(`{"contents":[]}`, { add: {} }))).toBe(`{"contents":[]}`);
    expect(JSON.parse(text(splice(`{ }`, { add: { max_tokens: 5 } }))!)).toEqual({ max_tokens: 5 });
  });

  it("leaves a large body's bytes where they are: its parts are views of the caller's buffer, not a copy", () => {
    const raw = Buffer.from(JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "x".repeat(SPLICE_IN_PARTS_FROM) }] }));
    const parts = spliceBody(scanTopLevel(raw)!, { model: "gpt-test", add: { stream_options: { include_usage: true } } });
    expect(Array.isArray(parts)).toBe(true);
    const list = parts as Buffer[];
    expect(list.filter((part) => part.length > 1000).every((part) => part.buffer === raw.buffer)).toBe(true);
    expect(JSON.parse(text(list)!)).toEqual({ ...JSON.parse(raw.toString()), model: "gpt-test", stream_options: { include_usage: true } });
    // Below the limit one joined buffer goes out (cheaper to write than several).
    expect(Buffer.isBuffer(splice(`{"model":"a"}`, { model: "b" }))).toBe(true);
  });

  it("declines what it cannot splice safely, so the caller re-serialises", () => {
    expect(scan(`{"model":"a","model":"b"}`)).toBeUndefined(); // repeated key
    expect(splice(`{"messages":[]}`, { model: "c" })).toBeUndefined(); // no model to replace
    expect(splice(`{"model":"a","max_tokens":5}`, { add: { max_tokens: 9 } })).toBeUndefined(); // field exists
  });

  it("reads strings and keys of every length as JSON.parse does, escapes on either side of where the scan changes method", () => {
    // Short strings are searched byte by byte, long ones natively: an escaped quote or a run of
    // backslashes right at the change must not end (or fail to end) the string.
    for (let length = 0; length <= 100; length++) {
      for (const tail of ['\\"', "\\\\", '\\\\\\"', "é"]) {
        const value = `${"a".repeat(length)}${tail}x`;
        const raw = `{${JSON.stringify(`k${value}`)}:1,"model":${JSON.stringify(value)},"stream":true}`;
        const body = new RequestBody(Buffer.from(raw));
        expect(body.top, raw).toBeDefined();
        expect(body.get("model"), raw).toBe(value);
        expect(body.get(`k${value}`), raw).toBe(1);
        expect(body.get("stream"), raw).toBe(true);
      }
    }
  });

  it("finds malformed what JSON.parse rejects outside strings", () => {
    expect(scan(`[1,2]`)).toBeUndefined(); // JSON, but not an object
    for (const bad of [
      `{"a":"unterminated}`,
      `{"a":[1,]}`,
      `{"a":{"b" 1}}`,
      `{"a":tru}`,
      `{"a":01}`,
      `{"a":1} x`,
      `{"a":1,}`,
      `{"a":[}`,
      `{a:1}`,
      ``,
      `{"a":-}`,
      `{"a":1.}`,
      `{"a":1e}`,
      `{"a":.5}`,
      `{"a":+1}`,
      `{"a":nul}`,
      `{"a":truex}`,
    ]) {
      expect(scan(bad), bad).toBeUndefined();
      expect(() => JSON.parse(bad), bad).toThrow();
    }
    for (const good of [`{}`, ` {"a" : [ 1 , -2.5e3 , true , null , {"b":[]} ] }\n`, `{"a":"x\\"y"}`, `{"a":[0,-0.5e+3,1E5,false]}`]) {
      expect(scan(good), good).toBeDefined();
      expect(() => JSON.parse(good), good).not.toThrow();
    }
  });

  it("reads top-level fields alone, and answers a malformed body with the full parse's 400", () => {
    const body = new RequestBody(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`);
    expect([body.get("model"), body.get("stream"), body.has("max_tokens"), body.get("max_tokens")]).toEqual(["m", true, false, undefined]);
    const escaped = new RequestBody(`{"model":"a\\u00e9\\"b","stream":false,"n":null}`);
    expect([escaped.get("model"), escaped.get("stream"), escaped.get("n")]).toEqual(['aé"b', false, null]);
    expect(body.parsed()).toEqual({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
    expect(() => new RequestBody(`{"model":"m",}`)).toThrow(/request body is not valid JSON/);
    expect(() => new RequestBody(`  `)).toThrow(/request body is empty/);
    expect(() => new RequestBody(`[1]`)).toThrow(/must be a JSON object/);
  });
});

describe("the fast path's upstream body", () => {
  const mock = useMock();

  it("is the caller's bytes with the model rewritten: numbers JSON cannot round-trip reach the provider unchanged", async () => {
    const router = createRouter(mockConfig(mock()));
    // A seed above 2^53 and a float written as 1.0 would come out of JSON.parse + JSON.stringify as 12345678901234567000 and 1.
    const raw = `{"model":"oai:gpt-test","seed":12345678901234567891,"temperature":1.0,"messages":[{"role":"user","content":"hi"}]}`;
    const res = await router.fetch(
      new Request("http://router.test/v1/chat/completions", { method: "POST", body: raw, headers: { "content-type": "application/json" } }),
    );
    expect(res.status).toBe(200);
    expect(mock().requests[0]!.rawBody).toBe(raw.replace('"oai:gpt-test"', '"gpt-test"'));
    await router.close();
  });

  it("of 100 KB reaches the provider whole, with its length declared (not chunked), on a failover attempt too", async () => {
    const failover =
      "models:\n  twice:\n    strategy: priority\n    endpoints:\n      - { provider: oai, model_id: first }\n      - { provider: oai, model_id: gpt-test }\n";
    const router = createRouter(mockConfig(mock(), failover));
    mock().enqueue({ status: 503, body: { error: { message: "busy" } } });
    const content = "The quick brown fox jumps over the lazy dog. ".repeat(2300);
    const raw = JSON.stringify({ model: "twice", messages: [{ role: "user", content }] });
    const res = await router.fetch(
      new Request("http://router.test/v1/chat/completions", { method: "POST", body: raw, headers: { "content-type": "application/json" } }),
    );
    expect(res.status).toBe(200);
    expect(mock().requests.map((r) => (r.body as { model: string }).model)).toEqual(["first", "gpt-test"]);
    for (const request of mock().requests) {
      expect(request.rawBody).toBe(raw.replace('"twice"', `"${(request.body as { model: string }).model}"`));
      expect(request.headers["content-length"]).toBe(String(Buffer.byteLength(request.rawBody)));
      expect(request.headers["transfer-encoding"]).toBeUndefined();
    }
    await router.close();
  });

  it("a body malformed outside strings is answered with a 400 naming the problem, and never sent upstream", async () => {
    const router = createRouter(mockConfig(mock()));
    for (const raw of [`{"model":"oai:gpt-test","messages":[{"role":"user","content":"hi"},]}`, `{"model":"oai:gpt-test"`, `{"model": oai}`]) {
      const res = await router.fetch(
        new Request("http://router.test/v1/chat/completions", { method: "POST", body: raw, headers: { "content-type": "application/json" } }),
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^request body is not valid JSON/);
    }
    expect(mock().requests).toHaveLength(0);
    await router.close();
  });

  it("gets Anthropic's default max_tokens spliced in, and a max_tokens above the model's limit fitted", async () => {
    const router = createRouter(mockConfig(mock())); // ant:claude-test has max_output_tokens 2048
    const send = async (raw: string) => {
      const res = await router.fetch(
        new Request("http://router.test/v1/messages", { method: "POST", body: raw, headers: { "content-type": "application/json" } }),
      );
      expect(res.status).toBe(200);
      await res.text();
    };
    const raw = `{"model":"ant:claude-test","temperature":1.0,"messages":[{"role":"user","content":"hi"}]}`;
    await send(raw);
    expect(mock().requests[0]!.rawBody).toBe(`${raw.replace('"ant:claude-test"', '"claude-test"').slice(0, -1)},"max_tokens":2048}`);
    await send(`{"model":"ant:claude-test","max_tokens":9000,"messages":[{"role":"user","content":"hi"}]}`);
    expect(mock().requests[1]!.body).toEqual({ model: "claude-test", max_tokens: 2048, messages: [{ role: "user", content: "hi" }] });
    await router.close();
  });

  it("still merges include_usage into stream_options the caller gave", async () => {
    const router = createRouter(mockConfig(mock()));
    const raw = JSON.stringify({ model: "oai:gpt-test", stream: true, stream_options: { include_usage: false }, messages: [{ role: "user", content: "hi" }] });
    const res = await router.fetch(
      new Request("http://router.test/v1/chat/completions", { method: "POST", body: raw, headers: { "content-type": "application/json" } }),
    );
    await res.text();
    expect(mock().requests[0]!.body).toMatchObject({ model: "gpt-test", stream_options: { include_usage: true } });
    await router.close();
  });
});
