// A content hook with admitsWire (RouterHook): same-protocol non-stream requests keep the caller's
// and the upstream's bytes when it admits them, and go through the canonical form when it does not,
// when it changes the request, or when the request streams.
import { describe, expect, it } from "vitest";
import type { CanonicalRequest, RouterHook, WireDirection } from "@bitrouter/core";
import { createRouter } from "../src/index.js";
import type { CompletionRecord } from "../src/index.js";
import { mockConfig, useMock } from "./helpers.js";

const mock = useMock();

const post = (body: string) => new Request("http://router.test/v1/chat/completions", { method: "POST", body, headers: { "content-type": "application/json" } });

/** A caller's body with a field no codec reads: the canonical form drops it. */
const SENT = `{"model":"oai:gpt-test","messages":[{"role":"user","content":"hi"}],"x_caller":"kept?"}`;
const ANSWER = `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"ok","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3},"x_upstream":"kept?"}`;

function hook(admits: Record<WireDirection, boolean>, rewrite?: (r: CanonicalRequest) => CanonicalRequest) {
  const asked: Array<[WireDirection, unknown]> = [];
  const records: CompletionRecord[] = [];
  const h: RouterHook = {
    name: "inspector",
    inspectsContent: true,
    beforeDispatch: (_ctx, request) => rewrite?.(request) ?? request,
    onResponse: (_ctx, response) => response,
    admitsWire: (_ctx, direction, body) => {
      asked.push([direction, body]);
      return admits[direction];
    },
    onComplete: (record) => records.push(record),
  };
  return { h, asked, records };
}

async function send(h: RouterHook, body = SENT) {
  mock().enqueue({ status: 200, body: ANSWER, headers: { "content-type": "application/json" } });
  const router = createRouter(mockConfig(mock()), { hooks: [h] });
  const res = await router.fetch(post(body));
  const text = await res.text();
  await router.close();
  return { status: res.status, text, upstream: mock().requests[0]!.rawBody };
}

describe("admitsWire", () => {
  it("admitted both ways: the caller's bytes go up and the upstream's come back, parsed for the hook, recorded once", async () => {
    const { h, asked, records } = hook({ request: true, response: true });
    const { status, text, upstream } = await send(h);
    expect(status).toBe(200);
    expect(upstream).toBe(SENT.replace('"oai:gpt-test"', '"gpt-test"'));
    expect(text).toBe(ANSWER);
    expect(asked).toEqual([
      ["request", JSON.parse(SENT)],
      ["response", JSON.parse(ANSWER)],
    ]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, provider: "oai", usage: { inputTokens: 2, outputTokens: 1 } });
  });

  it("a request it does not admit goes through the canonical form", async () => {
    const { h, asked } = hook({ request: false, response: true });
    const { text, upstream } = await send(h);
    expect(upstream).not.toContain("x_caller");
    expect(JSON.parse(text)).toMatchObject({ choices: [{ message: { content: "ok" } }] });
    expect(asked.map(([d]) => d)).toEqual(["request"]);
  });

  it("an answer it does not admit is re-encoded from the canonical form", async () => {
    const { h, records } = hook({ request: true, response: false });
    const { text, upstream } = await send(h);
    expect(upstream).toContain("x_caller");
    expect(text).not.toContain("x_upstream");
    expect(JSON.parse(text)).toMatchObject({ choices: [{ message: { content: "ok" } }] });
    expect(records).toHaveLength(1);
  });

  it("a request the hook changed is not asked about: the change goes up encoded", async () => {
    const { h, asked } = hook({ request: true, response: true }, (r) => ({ ...r, messages: [{ role: "user", content: [{ type: "text", text: "changed" }] }] }));
    const { upstream } = await send(h);
    expect(JSON.parse(upstream)).toMatchObject({ messages: [{ role: "user", content: "changed" }] });
    expect(upstream).not.toContain("x_caller");
    expect(asked).toEqual([]);
  });

  it("a stream is never asked: its events go through the hooks", async () => {
    const { h, asked } = hook({ request: true, response: true });
    const router = createRouter(mockConfig(mock()), { hooks: [h] });
    mock().enqueue({ text: ["a", "b"] });
    const res = await router.fetch(post(SENT.replace('"x_caller"', '"stream":true,"x_caller"')));
    expect(await res.text()).toContain("[DONE]");
    await router.close();
    expect(asked).toEqual([]);
    expect(mock().requests[0]!.rawBody).not.toContain("x_caller");
  });

  it("hooks that answer later and hooks that answer at once run in order, each seeing the one before", async () => {
    const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 5));
    const text = (r: { content: Array<{ type: string; text?: string }> }) => r.content.map((p) => p.text ?? "").join("");
    const hooks = (asyncFirst: boolean): RouterHook[] => {
      const at = (step: string): RouterHook => ({
        name: step,
        inspectsContent: true,
        admitsWire: () => true,
        beforeDispatch: (_ctx, request) => {
          const changed = {
            ...request,
            messages: [{ role: "user" as const, content: [{ type: "text" as const, text: `${text(request.messages[0]!)}+${step}` }] }],
          };
          return step === "async" ? later(changed) : changed;
        },
        onResponse: (_ctx, response) => {
          const changed = { ...response, content: [{ type: "text" as const, text: `${text(response)}+${step}` }] };
          return step === "async" ? later(changed) : changed;
        },
      });
      return asyncFirst ? [at("async"), at("sync")] : [at("sync"), at("async")];
    };
    for (const asyncFirst of [true, false]) {
      mock().enqueue({ status: 200, body: ANSWER, headers: { "content-type": "application/json" } });
      const router = createRouter(mockConfig(mock()), { hooks: hooks(asyncFirst) });
      const res = await router.fetch(post(SENT));
      const order = asyncFirst ? "+async+sync" : "+sync+async";
      expect(JSON.parse(await res.text())).toMatchObject({ choices: [{ message: { content: `ok${order}` } }] });
      expect(JSON.parse(mock().requests.at(-1)!.rawBody)).toMatchObject({ messages: [{ role: "user", content: `hi${order}` }] });
      await router.close();
    }
  });

  it("a hook that throws at once refuses the request in the caller's protocol, and the router keeps serving", async () => {
    let refuse = true;
    const h: RouterHook = {
      name: "refuser",
      inspectsContent: true,
      admitsWire: () => true,
      beforeDispatch: (_ctx, request) => {
        if (refuse) throw Object.assign(new Error("not this one"), { kind: "invalid_request", status: 400 });
        return request;
      },
    };
    const router = createRouter(mockConfig(mock()), { hooks: [h] });
    const refused = await router.fetch(post(SENT));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { message: expect.stringContaining("not this one") } });
    expect(mock().requests).toHaveLength(0);
    refuse = false;
    mock().enqueue({ status: 200, body: ANSWER, headers: { "content-type": "application/json" } });
    const served = await router.fetch(post(SENT));
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(ANSWER);
    await router.close();
  });
});
