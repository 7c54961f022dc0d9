// Cross-protocol conformance: every ordered pair (4 inbound protocols x 3 provider protocols)
// translates requests, responses and streams through the canonical model. Goldens live in
// fixtures/<in>__to__<out>/ and are regenerated with `vitest -u` (then reviewed by eye).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CanonicalResponse, ContentPart } from "@bitrouter/core";
import { CODECS } from "../../src/protocols/index.js";
import {
  assertEventOrder,
  openObjectSchemas,
  decodeInbound,
  decodeSse,
  expressibleUsage,
  PAIRS,
  parseSse,
  pretty,
  streamingRequest,
  summarise,
  translateStream,
} from "./helpers.js";
import { INBOUND_REQUESTS, REQUEST_CASES } from "./requests.js";
import { RESPONSE_CASES, UPSTREAM_RESPONSES } from "./responses.js";
import { STREAM_CASES, UPSTREAM_STREAMS } from "./streams.js";

// Anthropic and Gemini answers carry no timestamp: codecs use the decode time. Pin it for goldens.
beforeAll(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
});
afterAll(() => {
  vi.useRealTimers();
});

const textOf = (content: ContentPart[], type: "text" | "reasoning"): string => content.flatMap((p) => (p.type === type ? [p.text] : [])).join("");
const toolCallsOf = (content: ContentPart[]) =>
  content.flatMap((p) => (p.type === "tool_call" ? [{ id: p.id, name: p.name, arguments: JSON.parse(p.arguments || "{}") as unknown }] : []));

describe.each(PAIRS)("$inbound -> $outbound", ({ inbound, outbound, name }) => {
  const inCodec = CODECS[inbound];
  const outCodec = CODECS[outbound];
  const dir = `fixtures/${name}`;

  describe("request translation", () => {
    const cases = REQUEST_CASES.filter((c) => INBOUND_REQUESTS[inbound][c] !== undefined);
    it.each(cases)("%s", async (c) => {
      const request = decodeInbound(inbound, INBOUND_REQUESTS[inbound][c]);
      const upstream = outCodec.encodeRequest(request, { model: "m", defaultMaxTokens: 1024 });
      await expect(pretty(upstream)).toMatchFileSnapshot(`${dir}/${c}.request.json`);
      // Anthropic's structured outputs answer 400 "For 'object' type, 'additionalProperties' must be
      // explicitly set to false" for any other object schema in output_config.format.
      const format = (upstream.body.output_config as { format?: { schema?: unknown } } | undefined)?.format;
      if (format) expect(openObjectSchemas(format.schema)).toEqual([]);
    });
    it("streaming", async () => {
      // The streaming path differs on the wire (Gemini's URL, OpenAI's include_usage, stream flags).
      const upstream = outCodec.encodeRequest(streamingRequest(inbound), { model: "m", defaultMaxTokens: 1024 });
      await expect(pretty(upstream)).toMatchFileSnapshot(`${dir}/streaming.request.json`);
    });
  });

  describe("response translation", () => {
    const request = decodeInbound(inbound, INBOUND_REQUESTS[inbound]["text-multiturn"]);
    it.each(RESPONSE_CASES)("%s", async (c) => {
      const { body, expected } = UPSTREAM_RESPONSES[outbound][c];
      const canonical = outCodec.decodeResponse(body);
      const served = inCodec.encodeResponse(canonical, request);
      await expect(pretty(served)).toMatchFileSnapshot(`${dir}/${c}.response.json`);

      // What the client's SDK reads back from the served body.
      const seen: CanonicalResponse = inCodec.decodeResponse(served);
      expect(textOf(seen.content, "text")).toBe(expected.text);
      expect(textOf(seen.content, "reasoning")).toBe(expected.reasoning ?? "");
      expect(toolCallsOf(seen.content)).toEqual(expected.toolCalls ?? []);
      expect(seen.stopReason).toBe(expected.stopReason);
      expect(seen.usage).toEqual(expressibleUsage(expected.usage, outbound, inbound));
    });
  });

  describe("stream translation", () => {
    it.each(STREAM_CASES)("%s", async (c) => {
      const { sse, expected } = UPSTREAM_STREAMS[outbound][c];
      const request = streamingRequest(inbound);
      const { upstream, served } = await translateStream(outCodec, inCodec, request, sse);

      // The upstream transcript decodes to what the fixture says.
      const truth = summarise(upstream);
      expect({
        text: truth.text,
        reasoning: truth.reasoning,
        calls: truth.toolCalls.map(({ id, name, arguments: a }) => ({ id, name, arguments: a })),
      }).toEqual({
        text: expected.text,
        reasoning: expected.reasoning,
        calls: expected.toolCalls,
      });

      // The served SSE follows the inbound protocol's rules and carries the same content.
      const failed = expected.outcome === "error";
      assertEventOrder(inbound, parseSse(served), failed);
      const seen = summarise(decodeSse(inCodec, served));
      expect(seen.text).toBe(expected.text);
      expect(seen.reasoning).toBe(expected.reasoning);
      expect(seen.toolCalls.map(({ id, name, arguments: a }) => ({ id, name, arguments: JSON.parse(a) as unknown }))).toEqual(
        expected.toolCalls.map(({ id, name, arguments: a }) => ({ id, name, arguments: JSON.parse(a) as unknown })),
      );
      expect(new Set(seen.toolCalls.map((t) => t.index)).size).toBe(seen.toolCalls.length);
      expect(seen.starts).toBe(1);
      if (failed) {
        expect({ errors: seen.errors, finishes: seen.finishes }).toEqual({ errors: 1, finishes: 0 });
      } else {
        expect({ errors: seen.errors, finishes: seen.finishes }).toEqual({ errors: 0, finishes: 1 });
        expect(seen.usage).toEqual(expressibleUsage(expected.usage, outbound, inbound));
        expect(seen.stopReason).toBe(expected.toolCalls.length > 0 ? "tool_calls" : "stop");
      }
      if (c === "text" || c === "tools") await expect(served).toMatchFileSnapshot(`${dir}/${c}.stream.sse`);
    });
  });
});
