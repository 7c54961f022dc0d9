// Shared plumbing of the conformance suite: the 12 protocol pairs, stream translation through
// the package's own SSE parser, summaries of canonical streams and each protocol's event-order rules.
import { createParser } from "eventsource-parser";
import type { CanonicalRequest, Protocol, StreamEvent, Usage } from "@bitrouter/core";
import { PROTOCOLS } from "@bitrouter/core";
import type { Codec, SseEvent } from "../../src/codec.js";
import { CODECS } from "../../src/protocols/index.js";
import { sseEvents } from "../../src/sse.js";
import { GOOGLE_URL_MODEL } from "./requests.js";
import { OUTBOUND, type OutboundProtocol } from "./responses.js";

export interface Pair {
  inbound: Protocol;
  outbound: OutboundProtocol;
  /** `<in>__to__<out>`, the fixture directory of the pair. */
  name: string;
}

export const PAIRS: readonly Pair[] = PROTOCOLS.flatMap((inbound) => OUTBOUND.map((outbound) => ({ inbound, outbound, name: `${inbound}__to__${outbound}` })));

/** What the server passes to decodeRequest: Gemini's model and stream flag come from the URL. */
export function decodeInbound(protocol: Protocol, body: unknown, stream = false): CanonicalRequest {
  return CODECS[protocol].decodeRequest(body, protocol === "google" ? { model: GOOGLE_URL_MODEL, stream } : undefined);
}

/** A minimal streaming request of each inbound protocol (chat asks for the usage chunk). */
export function streamingRequest(protocol: Protocol): CanonicalRequest {
  const ask = "How long is the train from Lyon?";
  switch (protocol) {
    case "openai-chat":
      return decodeInbound(protocol, { model: "gpt-4o", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: ask }] });
    case "openai-responses":
      return decodeInbound(protocol, { model: "gpt-4o", stream: true, input: ask });
    case "anthropic":
      return decodeInbound(protocol, { model: "claude-sonnet-4-5", stream: true, max_tokens: 1024, messages: [{ role: "user", content: ask }] });
    case "google":
      return decodeInbound(protocol, { contents: [{ role: "user", parts: [{ text: ask }] }] }, true);
  }
}

/** The SSE text as bytes, delivered 5 bytes at a time: multi-byte characters get split. */
async function* byteChunks(text: string, size = 5): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export interface Translation {
  /** Canonical events of the upstream stream (outbound decoder). */
  upstream: StreamEvent[];
  /** The SSE text BitRouter serves to the inbound client. */
  served: string;
}

/** Upstream SSE -> outbound decoder -> inbound encoder, the way the router pipes a translated stream. */
export async function translateStream(outbound: Codec, inbound: Codec, request: CanonicalRequest, upstreamSse: string): Promise<Translation> {
  const decoder = outbound.createStreamDecoder();
  const encoder = inbound.createStreamEncoder(request);
  const upstream: StreamEvent[] = [];
  let served = "";
  const feed = (events: StreamEvent[]): boolean => {
    for (const e of events) {
      upstream.push(e);
      served += encoder.encode(e);
      if (e.type === "error") return false; // the router stops reading after an error event
    }
    return true;
  };
  let open = true;
  for await (const e of sseEvents(byteChunks(upstreamSse))) {
    open = feed(decoder.decode(e));
    if (!open) break;
  }
  if (open) feed(decoder.end());
  return { upstream, served: served + encoder.end() };
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({
    onEvent: (e) => events.push(e.event === undefined ? { data: e.data } : { event: e.event, data: e.data }),
  });
  parser.feed(text);
  return events;
}

/** Canonical events an SSE text decodes to with `codec`'s stream decoder (including `end()`). */
export function decodeSse(codec: Codec, text: string): StreamEvent[] {
  const decoder = codec.createStreamDecoder();
  return [...parseSse(text).flatMap((e) => decoder.decode(e)), ...decoder.end()];
}

export interface StreamSummary {
  text: string;
  reasoning: string;
  toolCalls: Array<{ index: number; id: string; name: string; arguments: string }>;
  usage?: Usage;
  starts: number;
  finishes: number;
  errors: number;
  stopReason?: string;
}

export function summarise(events: StreamEvent[]): StreamSummary {
  const s: StreamSummary = { text: "", reasoning: "", toolCalls: [], starts: 0, finishes: 0, errors: 0 };
  const calls = new Map<number, StreamSummary["toolCalls"][number]>();
  for (const e of events) {
    switch (e.type) {
      case "start":
        s.starts++;
        break;
      case "text_delta":
        s.text += e.text;
        break;
      case "reasoning_delta":
        s.reasoning += e.text;
        break;
      case "tool_call_start": {
        const call = { index: e.index, id: e.id, name: e.name, arguments: "" };
        calls.set(e.index, call);
        s.toolCalls.push(call);
        break;
      }
      case "tool_call_delta": {
        const call = calls.get(e.index);
        if (!call) throw new Error(`tool_call_delta for index ${e.index} without a tool_call_start`);
        call.arguments += e.argumentsDelta;
        break;
      }
      case "usage":
        s.usage = e.usage;
        break;
      case "finish":
        s.finishes++;
        s.stopReason = e.stopReason;
        if (e.usage) s.usage = e.usage;
        break;
      case "error":
        s.errors++;
        break;
      default:
        break;
    }
  }
  return s;
}

/** Usage fields each protocol's answers carry (Gemini has no cache-write count; see docs/protocol-mapping.md). */
const USAGE_FIELDS: Record<Protocol, ReadonlyArray<keyof Usage>> = {
  "openai-chat": ["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"],
  "openai-responses": ["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"],
  anthropic: ["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"],
  google: ["inputTokens", "outputTokens", "cacheReadTokens", "reasoningTokens"],
};

/** `usage` restricted to what every protocol in `protocols` can carry. */
export function expressibleUsage(usage: Usage | undefined, ...protocols: Protocol[]): Partial<Usage> | undefined {
  if (!usage) return undefined;
  const out: Partial<Usage> = {};
  for (const key of USAGE_FIELDS[protocols[0]!]) {
    if (protocols.every((p) => USAGE_FIELDS[p].includes(key)) && usage[key] !== undefined) out[key] = usage[key];
  }
  return out;
}

// ── Event-order rules of each inbound protocol, checked on the served SSE ──────────────────────

const json = (e: SseEvent): Record<string, unknown> => JSON.parse(e.data) as Record<string, unknown>;

/** Throws naming the broken rule; `failed` says whether the stream must end in the protocol's error. */
export function assertEventOrder(protocol: Protocol, events: SseEvent[], failed: boolean): void {
  const fail = (rule: string): never => {
    throw new Error(`${protocol} stream breaks "${rule}": ${events.map((e) => e.event ?? e.data.slice(0, 40)).join(" | ")}`);
  };
  if (events.length === 0) fail("the stream is not empty");
  switch (protocol) {
    case "anthropic": {
      if (events[0]!.event !== "message_start") fail("message_start first");
      if (events.filter((e) => e.event === "message_start").length !== 1) fail("exactly one message_start");
      let open: number | undefined;
      let next = 0;
      for (const e of events) {
        if (e.event !== json(e).type) fail("event name equals data.type");
        const index = json(e).index as number | undefined;
        if (e.event === "content_block_start") {
          if (open !== undefined) fail("content blocks never overlap");
          if (index !== next) fail("blocks are numbered 0, 1, 2… in order");
          open = index;
          next++;
        } else if (e.event === "content_block_delta") {
          if (index !== open) fail("deltas only for the open block");
        } else if (e.event === "content_block_stop") {
          if (index !== open) fail("content_block_stop closes the open block");
          open = undefined;
        } else if (e.event === "message_delta" || e.event === "message_stop") {
          // An error may cut a block short, as Anthropic's own streams do; a clean end may not.
          if (open !== undefined) fail("every content_block_start is closed by content_block_stop before the message ends");
        }
      }
      const names = events.map((e) => e.event);
      if (failed) {
        if (names.at(-1) !== "error" || names.includes("message_stop")) fail("an error event last and no message_stop");
      } else {
        if (names.at(-1) !== "message_stop" || names.at(-2) !== "message_delta") fail("message_delta then message_stop last");
        if (names.filter((n) => n === "message_delta").length !== 1) fail("exactly one message_delta");
      }
      break;
    }
    case "openai-chat": {
      const first = json(events[0]!) as { choices?: Array<{ delta?: { role?: string } }> };
      if (first.choices?.[0]?.delta?.role !== "assistant") fail("role on the first chunk");
      const done = events.filter((e) => e.data === "[DONE]").length;
      if (failed) {
        if (done !== 0 || !("error" in json(events.at(-1)!))) fail("an error chunk last and no [DONE]");
      } else {
        if (done !== 1 || events.at(-1)!.data !== "[DONE]") fail("[DONE] last");
        const finishes = events.slice(0, -1).filter((e) => (json(e) as { choices: Array<{ finish_reason: unknown }> }).choices[0]?.finish_reason);
        if (finishes.length !== 1) fail("exactly one chunk with a finish_reason");
      }
      break;
    }
    case "openai-responses": {
      let last = -1;
      for (const e of events) {
        const seq = json(e).sequence_number as number;
        if (!(seq > last)) fail("sequence_number strictly increasing");
        last = seq;
        if (e.event !== json(e).type) fail("event name equals data.type");
      }
      if (events[0]!.event !== "response.created") fail("response.created first");
      const terminal = events.filter((e) => ["response.completed", "response.incomplete", "response.failed"].includes(e.event ?? ""));
      if (terminal.length !== 1 || terminal[0] !== events.at(-1)) fail("exactly one terminal event, last");
      if (failed ? events.at(-1)!.event !== "response.failed" : events.at(-1)!.event !== "response.completed")
        fail(failed ? "response.failed last" : "response.completed last");
      break;
    }
    case "google": {
      const last = json(events.at(-1)!) as { error?: unknown; usageMetadata?: unknown; candidates?: Array<{ finishReason?: string }> };
      const finishes = events.filter((e) => (json(e) as { candidates?: Array<{ finishReason?: string }> }).candidates?.[0]?.finishReason);
      if (failed) {
        if (!last.error || finishes.length !== 0) fail("an error chunk last and no finishReason");
      } else if (finishes.length !== 1 || !last.candidates?.[0]?.finishReason || !last.usageMetadata) {
        fail("exactly one finishReason, on the last chunk with usageMetadata");
      }
      break;
    }
  }
}

export const pretty = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** JSON paths of the object schemas in `schema` that do not set `additionalProperties: false`. */
export function openObjectSchemas(schema: unknown, path = "$"): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => openObjectSchemas(s, `${path}[${i}]`));
  if (typeof schema !== "object" || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const isObject = node.type === "object" || (Array.isArray(node.type) && node.type.includes("object")) || node.properties !== undefined;
  const own = isObject && node.additionalProperties !== false ? [path] : [];
  const nested = ["properties", "$defs", "definitions"].flatMap((key) =>
    typeof node[key] === "object" && node[key] !== null
      ? Object.entries(node[key] as object).flatMap(([k, v]) => openObjectSchemas(v, `${path}.${key}.${k}`))
      : [],
  );
  const children = ["items", "prefixItems", "anyOf", "oneOf", "allOf", "not"].flatMap((key) =>
    node[key] === undefined ? [] : openObjectSchemas(node[key], `${path}.${key}`),
  );
  return [...own, ...nested, ...children];
}
