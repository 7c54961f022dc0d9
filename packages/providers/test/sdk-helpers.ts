// Test helpers for the codec tests: a loopback HTTP server the official SDKs talk to, and SSE plumbing.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createParser } from "eventsource-parser";
import type { CanonicalRequest, StreamEvent } from "@bitrouter/core";
import type { Codec, SseEvent } from "../src/codec.js";

export interface TestServer {
  baseURL: string;
  /** Parsed JSON bodies of the requests received so far. */
  bodies: unknown[];
  paths: string[];
  close(): Promise<void>;
}

/** A server on 127.0.0.1:0 that records each JSON request and lets `answer` respond. */
export async function startServer(answer: (body: unknown, res: ServerResponse, req: IncomingMessage) => void): Promise<TestServer> {
  const bodies: unknown[] = [];
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
      bodies.push(body);
      paths.push(req.url ?? "");
      answer(body, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    bodies,
    paths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Writes SSE text in small, unaligned slices, like a real network would deliver it. */
export function sendSse(res: ServerResponse, text: string, slice = 7): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (let i = 0; i < text.length; i += slice) res.write(text.slice(i, i + slice));
  res.end();
}

/** All the SSE text a stream encoder produces for `events` (including `end()`). */
export function encodeStream(codec: Codec, request: CanonicalRequest, events: StreamEvent[]): string {
  const encoder = codec.createStreamEncoder(request);
  return events.map((e) => encoder.encode(e)).join("") + encoder.end();
}

/** Parses SSE text into events (as the HTTP client would). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({
    onEvent: (e) => {
      const event: SseEvent = { data: e.data };
      if (e.event !== undefined) event.event = e.event;
      events.push(event);
    },
  });
  parser.feed(text);
  return events;
}

/** Canonical events a stream decoder produces for SSE text (including `end()`). */
export function decodeStream(codec: Codec, text: string): StreamEvent[] {
  const decoder = codec.createStreamDecoder();
  return [...parseSse(text).flatMap((e) => decoder.decode(e)), ...decoder.end()];
}

/** The text of each canonical part, keyed by index, from a list of stream events. */
export function collectParts(events: StreamEvent[]): Map<number, { kind: string; text: string; id?: string; name?: string }> {
  const parts = new Map<number, { kind: string; text: string; id?: string; name?: string }>();
  for (const e of events) {
    if (e.type === "text_delta" || e.type === "reasoning_delta") {
      const p = parts.get(e.index) ?? { kind: e.type === "text_delta" ? "text" : "reasoning", text: "" };
      p.text += e.text;
      parts.set(e.index, p);
    } else if (e.type === "tool_call_start") {
      parts.set(e.index, { kind: "tool", text: "", id: e.id, name: e.name });
    } else if (e.type === "tool_call_delta") {
      parts.get(e.index)!.text += e.argumentsDelta;
    }
  }
  return parts;
}
