// Tool-call round trips across every pair: the provider (protocol B) calls two tools, BitRouter
// serves the calls to the agent (protocol A), the agent appends the assistant turn exactly as its
// SDK returned it plus the two results, and the next request must reach B with the call ids (and,
// for Gemini, the function names) that let B match each result to its call.
import { describe, expect, it } from "vitest";
import type { CanonicalRequest, JsonObject, Protocol } from "@bitrouter/core";
import { CODECS } from "../../src/protocols/index.js";
import { decodeInbound, PAIRS } from "./helpers.js";
import { INBOUND_REQUESTS } from "./requests.js";
import { UPSTREAM_RESPONSES, type OutboundProtocol } from "./responses.js";

const RESULTS: Record<string, string> = { get_weather: '{"temperature":18,"condition":"cloudy"}', get_time: "14:05 UTC" };
const QUESTION = "What's the weather in Paris, and what time is it?";

interface Call {
  id: string;
  name: string;
}

type Body = Record<string, unknown>;
const arr = (v: unknown): Body[] => v as Body[];

/** The next request an agent sends: its first turn, the served assistant turn as-is, the results. */
function nextTurn(protocol: Protocol, first: Body, served: JsonObject, calls: Call[]): Body {
  switch (protocol) {
    case "openai-chat": {
      const message = arr(served.choices)[0]!.message;
      return { ...first, messages: [...arr(first.messages), message, ...calls.map((c) => ({ role: "tool", tool_call_id: c.id, content: RESULTS[c.name] }))] };
    }
    case "openai-responses":
      return {
        ...first,
        input: [...arr(first.input), ...arr(served.output), ...calls.map((c) => ({ type: "function_call_output", call_id: c.id, output: RESULTS[c.name] }))],
      };
    case "anthropic":
      return {
        ...first,
        messages: [
          ...arr(first.messages),
          { role: "assistant", content: served.content },
          { role: "user", content: calls.map((c) => ({ type: "tool_result", tool_use_id: c.id, content: RESULTS[c.name] })) },
        ],
      };
    case "google":
      return {
        ...first,
        contents: [
          ...arr(first.contents),
          arr(served.candidates)[0]!.content,
          { role: "user", parts: calls.map((c) => ({ functionResponse: { id: c.id, name: c.name, response: { output: RESULTS[c.name] } } })) },
        ],
      };
  }
}

/** The first turn of each protocol: the tools of the "tools-parallel" case and the question. */
function firstTurn(protocol: Protocol): Body {
  const { messages, input, contents, ...rest } = INBOUND_REQUESTS[protocol]["tools-parallel"]!;
  switch (protocol) {
    case "openai-chat":
    case "anthropic":
      return { ...rest, messages: [{ role: "user", content: QUESTION }] };
    case "openai-responses":
      return { ...rest, input: [{ role: "user", content: QUESTION }] };
    case "google":
      return { ...rest, contents: [{ role: "user", parts: [{ text: QUESTION }] }] };
  }
}

/** Call ids/names and result ids/names as the upstream request of protocol B carries them. */
function pairingInUpstream(protocol: OutboundProtocol, body: Body): { calls: Call[]; results: Array<{ id: string; name?: string }> } {
  switch (protocol) {
    case "openai-chat": {
      const messages = arr(body.messages);
      const assistant = messages.find((m) => m.role === "assistant" && m.tool_calls)!;
      return {
        calls: arr(assistant.tool_calls).map((t) => ({ id: t.id as string, name: (t.function as Body).name as string })),
        results: messages.filter((m) => m.role === "tool").map((m) => ({ id: m.tool_call_id as string })),
      };
    }
    case "anthropic": {
      const messages = arr(body.messages);
      const blocks = messages.flatMap((m) => (Array.isArray(m.content) ? arr(m.content) : []));
      return {
        calls: blocks.filter((b) => b.type === "tool_use").map((b) => ({ id: b.id as string, name: b.name as string })),
        results: blocks.filter((b) => b.type === "tool_result").map((b) => ({ id: b.tool_use_id as string })),
      };
    }
    case "google": {
      const parts = arr(body.contents).flatMap((c) => arr(c.parts));
      return {
        calls: parts.filter((p) => p.functionCall).map((p) => ({ id: (p.functionCall as Body).id as string, name: (p.functionCall as Body).name as string })),
        results: parts
          .filter((p) => p.functionResponse)
          .map((p) => ({ id: (p.functionResponse as Body).id as string, name: (p.functionResponse as Body).name as string })),
      };
    }
  }
}

describe.each(PAIRS)("tool round trip: agent $inbound, provider $outbound", ({ inbound, outbound }) => {
  it("keeps the provider's call ids through the answer and the next request", () => {
    const agent = CODECS[inbound];
    const provider = CODECS[outbound];
    const first = firstTurn(inbound);
    const request: CanonicalRequest = decodeInbound(inbound, first);

    // The provider's answer with two parallel calls, served to the agent.
    const { body, expected } = UPSTREAM_RESPONSES[outbound]["tool-calls"];
    const served = agent.encodeResponse(provider.decodeResponse(body), request);
    const seen = agent.decodeResponse(served).content.flatMap((p) => (p.type === "tool_call" ? [{ id: p.id, name: p.name }] : []));
    const providerCalls = expected.toolCalls!.map(({ id, name }) => ({ id, name }));
    expect(seen).toEqual(providerCalls);

    // The agent's next turn reaches the provider with results matched to the same calls.
    const next = decodeInbound(inbound, nextTurn(inbound, first, served, seen));
    const upstream = provider.encodeRequest(next, { model: "m", defaultMaxTokens: 1024 }).body as Body;
    const pairing = pairingInUpstream(outbound, upstream);
    expect(pairing.calls).toEqual(providerCalls);
    expect(pairing.results).toEqual(providerCalls.map((c) => (outbound === "google" ? c : { id: c.id })));
  });
});
