// The stream decoders reuse the shape of a text chunk (TextChunkShape): a chunk that is the same
// bytes as the last text chunk around another string is decoded without parsing. Whatever the
// upstream sends, that must give exactly the events a whole decode gives. Each property decodes a
// random stream twice: as sent, and with every chunk made unique by whitespace after its opening
// brace (the same JSON, so the same events, but no chunk repeats another's bytes: every chunk is
// decoded whole). The streams repeat a few shapes on purpose, and mix in what must break a reuse:
// new parts and blocks, refusals, reasoning, tools, errors, duplicate keys, escaped text.
import fc from "fast-check";
import type { StreamEvent } from "@bitrouter/core";
import { describe, expect, it } from "vitest";
import type { SseEvent } from "../src/codec.js";
import { anthropicCodec } from "../src/protocols/anthropic/index.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";

const RUNS = { numRuns: 400 };

// Text that stresses the literal: quotes, backslashes, control characters, U+2028, astral, lone surrogates.
const tricky = fc.constantFrom('"', "\\", "\n", "\u0000", "\u001f", "\u2028", "😀", "\ud800", "é", " ", "content", '"text":"x"');
const text = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 12 }),
  fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 5 }).map((parts) => parts.join("")),
);

/** A JSON string literal for `value`, written plainly or with every character as a \u escape. */
const literal = (value: string, escaped: boolean): string =>
  escaped ? `"${[...value].map((c) => [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")).join("")}"` : JSON.stringify(value);

/** The same JSON with `n` spaces after its opening brace (n > 0 makes each chunk's bytes its own). */
const padded = (data: string, n: number): string => (data.startsWith("{") && n > 0 ? `{${" ".repeat(n)}${data.slice(1)}` : data);

/** Events with the start's `created` cleared where it is the decoder's clock, not the upstream's. */
function decodeAll(createDecoder: () => { decode(e: SseEvent): StreamEvent[]; end(): StreamEvent[] }, events: SseEvent[]): StreamEvent[] {
  const decoder = createDecoder();
  const out = events.flatMap((e) => decoder.decode(e));
  out.push(...decoder.end());
  return out.map((e) => (e.type === "start" ? { ...e, created: 0 } : e));
}

function expectSameAsWhole(createDecoder: () => { decode(e: SseEvent): StreamEvent[]; end(): StreamEvent[] }, stream: SseEvent[]): void {
  const whole = stream.map((e, i) => ({ ...e, data: padded(e.data, i + 1) }));
  expect(decodeAll(createDecoder, stream)).toEqual(decodeAll(createDecoder, whole));
}

describe("OpenAI Chat: a reused chunk shape decodes as the whole chunk would", () => {
  const id = fc.constantFrom("chatcmpl-a", "chatcmpl-b");
  const chunk = (choice: string, head = `"id":"chatcmpl-a","object":"chat.completion.chunk","created":1700000000,"model":"m"`) =>
    `{${head},"choices":[${choice}]}`;
  const data = fc
    .oneof(
      { weight: 8, arbitrary: fc.record({ t: text, id, escaped: fc.boolean(), spaced: fc.boolean() }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constantFrom(
            "role",
            "refusal",
            "refusal-empty-content",
            "reasoning",
            "tool",
            "tool-args",
            "finish",
            "usage",
            "error",
            "duplicate",
            "done",
            "empty",
            "other-content",
          ),
          t: text,
          n: fc.nat(2),
        }),
      },
    )
    .map((c): string => {
      if ("id" in c) {
        const value = literal(c.t, c.escaped);
        return chunk(`{"index":0,"delta":{"content"${c.spaced ? ": " : ":"}${value}},"logprobs":null,"finish_reason":null}`, `"id":"${c.id}","model":"m"`);
      }
      const t = JSON.stringify(c.t);
      switch (c.kind) {
        case "role":
          return chunk(`{"index":0,"delta":{"role":"assistant","content":${t}},"finish_reason":null}`);
        case "refusal":
          return chunk(`{"index":0,"delta":{"content":${t},"refusal":"no"},"finish_reason":null}`);
        case "refusal-empty-content":
          return chunk(`{"index":0,"delta":{"refusal":${t},"content":""},"finish_reason":null}`);
        case "reasoning":
          return chunk(`{"index":0,"delta":{"reasoning_content":"hm","content":${t}},"finish_reason":null}`);
        case "tool":
          return chunk(`{"index":0,"delta":{"tool_calls":[{"index":${c.n},"id":"call_${c.n}","function":{"name":"f","arguments":""}}]},"finish_reason":null}`);
        case "tool-args":
          return chunk(`{"index":0,"delta":{"content":${t},"tool_calls":[{"index":${c.n},"function":{"arguments":"{}"}}]},"finish_reason":null}`);
        case "finish":
          return chunk(`{"index":0,"delta":{"content":${t}},"finish_reason":"stop"}`);
        case "usage":
          return `{"id":"chatcmpl-a","choices":[],"usage":{"prompt_tokens":${c.n},"completion_tokens":1,"total_tokens":${c.n + 1}}}`;
        case "error":
          return `{"error":{"message":"boom","type":"server_error"},"choices":[{"index":0,"delta":{"content":${t}}}]}`;
        case "duplicate":
          return chunk(`{"index":0,"delta":{"content":"first","content":${t}},"finish_reason":null}`);
        case "done":
          return "[DONE]";
        case "empty":
          return "";
        default:
          // The text's key again after the real one: the last "content" is not where the text is read.
          return `{"id":"chatcmpl-a","choices":[{"index":0,"delta":{"content":"same"}}],"content":${t}}`;
      }
    });

  it("for random streams of repeating and changing chunks", () => {
    fc.assert(
      fc.property(fc.array(data, { minLength: 1, maxLength: 24 }), (datas) => {
        expectSameAsWhole(
          () => openaiChatCodec.createStreamDecoder(),
          datas.map((d) => ({ data: d })),
        );
      }),
      RUNS,
    );
  });

  const texts = (stream: SseEvent[]) =>
    decodeAll(() => openaiChatCodec.createStreamDecoder(), stream).flatMap((e) => (e.type === "text_delta" ? [e.text] : []));

  it("a text key after the real one is not taken for the text, even when it holds the same text", () => {
    // The last "content" key is a sibling of choices; the decoder reads choices[0].delta.content.
    const shaped = (t: string) => ({ data: `{"choices":[{"index":0,"delta":{"content":"x"}}],"content":${JSON.stringify(t)}}` });
    expect(texts([shaped("x"), shaped("x"), shaped("y"), shaped("z")])).toEqual(["x", "x", "x", "x"]);
  });

  it("a refusal beside empty content stays the refusal", () => {
    const shaped = (c: string) => ({ data: `{"choices":[{"index":0,"delta":{"content":${JSON.stringify(c)},"refusal":"sorry"}}]}` });
    expect(texts([shaped("a"), shaped(""), shaped(""), shaped("b")])).toEqual(["a", "sorry", "sorry", "sorry", "b", "sorry"]);
  });

  it("more than one string between the learned bytes is no text chunk", () => {
    const text = (c: string) => ({ data: `{"choices":[{"index":0,"delta":{"content":${JSON.stringify(c)}}}]}` });
    const refusal = { data: `{"choices":[{"index":0,"delta":{"content":"b","refusal":"c"}}]}` };
    expect(texts([text("a"), text("a"), refusal])).toEqual(["a", "a", "b", "c"]);
  });
});

describe("Anthropic: a reused chunk shape decodes as the whole chunk would", () => {
  const delta = (index: number, t: string, escaped: boolean) =>
    `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${literal(t, escaped)}}}`;
  const event = fc
    .oneof(
      { weight: 8, arbitrary: fc.record({ index: fc.nat(1), t: text, escaped: fc.boolean(), named: fc.boolean() }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constantFrom(
            "start-text",
            "start-text-with-delta",
            "start-thinking",
            "start-tool",
            "stop",
            "thinking",
            "json",
            "ping",
            "message-delta",
            "untyped",
            "untyped-other",
          ),
          index: fc.nat(1),
          t: text,
        }),
      },
    )
    .map((c): SseEvent => {
      if ("named" in c) return c.named ? { event: "content_block_delta", data: delta(c.index, c.t, c.escaped) } : { data: delta(c.index, c.t, c.escaped) };
      const t = JSON.stringify(c.t);
      switch (c.kind) {
        case "start-text":
          return { event: "content_block_start", data: `{"type":"content_block_start","index":${c.index},"content_block":{"type":"text","text":${t}}}` };
        case "start-text-with-delta":
          // A start whose stray "delta" holds the last "text": a new block each time, never a reused delta.
          return {
            data: `{"type":"content_block_start","index":${c.index},"content_block":{"type":"text","text":"A"},"delta":{"type":"text_delta","text":${t}}}`,
          };
        case "start-thinking":
          return { data: `{"type":"content_block_start","index":${c.index},"content_block":{"type":"thinking","thinking":""}}` };
        case "start-tool":
          return { data: `{"type":"content_block_start","index":${c.index},"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}` };
        case "stop":
          return { event: "content_block_stop", data: `{"type":"content_block_stop","index":${c.index}}` };
        case "thinking":
          return { data: `{"type":"content_block_delta","index":${c.index},"delta":{"type":"thinking_delta","thinking":${t}}}` };
        case "json":
          return { data: `{"type":"content_block_delta","index":${c.index},"delta":{"type":"input_json_delta","partial_json":${t}}}` };
        case "ping":
          return { event: "ping", data: `{"type":"ping"}` };
        case "message-delta":
          return { data: `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}` };
        case "untyped":
          // No type in the data: the SSE event name decides, so the same bytes under another name differ.
          return { event: "content_block_delta", data: `{"index":${c.index},"delta":{"type":"text_delta","text":${t}}}` };
        default:
          return { event: "content_block_start", data: `{"index":${c.index},"delta":{"type":"text_delta","text":${t}},"content_block":{"type":"text"}}` };
      }
    });
  const opening: SseEvent[] = [
    { event: "message_start", data: `{"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":1,"output_tokens":0}}}` },
    { event: "content_block_start", data: `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` },
  ];

  it("for random streams of repeating and changing events", () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 24 }), (events) => {
        expectSameAsWhole(() => anthropicCodec.createStreamDecoder(), [...opening, ...events, { event: "message_stop", data: `{"type":"message_stop"}` }]);
      }),
      RUNS,
    );
  });

  it("the same bytes under another event name are not a text delta", () => {
    // Without a type in the data the SSE event name decides what the event is.
    const untyped = (name: string | undefined, t: string): SseEvent => ({ event: name, data: `{"index":0,"delta":{"type":"text_delta","text":"${t}"}}` });
    const events = decodeAll(
      () => anthropicCodec.createStreamDecoder(),
      [...opening, untyped("content_block_delta", "a"), untyped("content_block_delta", "b"), untyped(undefined, "c"), untyped("ping", "d")],
    );
    expect(events.flatMap((e) => (e.type === "text_delta" ? [e.text] : []))).toEqual(["a", "b"]);
  });

  it("a block start is never taken for a delta, whatever it carries", () => {
    // A stray "delta" holds the start's own text: each start still opens a new part with the block's text.
    const start = (t: string): SseEvent => ({
      data: `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"A"},"delta":{"type":"text_delta","text":"${t}"}}`,
    });
    const events = decodeAll(() => anthropicCodec.createStreamDecoder(), [opening[0]!, start("A"), start("B"), start("C")]);
    expect(events.flatMap((e) => (e.type === "text_delta" ? [[e.index, e.text]] : []))).toEqual([
      [0, "A"],
      [1, "A"],
      [2, "A"],
    ]);
  });

  it("a block started again gets its new index", () => {
    const stream: SseEvent[] = [
      ...opening,
      { data: delta(0, "a", false) },
      { data: delta(0, "b", false) },
      { data: `{"type":"content_block_stop","index":0}` },
      { data: `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` },
      { data: delta(0, "c", false) },
      { data: delta(0, "d", false) },
    ];
    const texts = decodeAll(() => anthropicCodec.createStreamDecoder(), stream).flatMap((e) => (e.type === "text_delta" ? [[e.index, e.text]] : []));
    expect(texts).toEqual([
      [0, "a"],
      [0, "b"],
      [1, "c"],
      [1, "d"],
    ]);
  });
});
