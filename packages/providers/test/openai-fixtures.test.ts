// Golden fixtures: realistic wire bodies (shaped after OpenAI's public docs examples) and the
// canonical form they must decode to; request fixtures also pin what we send back out.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CanonicalRequest } from "@bitrouter/core";
import type { Codec } from "../src/codec.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";
import { openaiResponsesCodec } from "../src/protocols/openai-responses/index.js";
import { decodeStream } from "./sdk-helpers.js";

interface Fixture {
  description: string;
  wire?: unknown;
  canonical?: unknown;
  reencoded?: unknown;
  status?: number;
  sse?: Array<{ event?: string; data: unknown }>;
  events?: unknown[];
}

const toSse = (events: NonNullable<Fixture["sse"]>): string =>
  events.map((e) => `${e.event ? `event: ${e.event}\n` : ""}data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n\n`).join("");

for (const [dir, codec] of [
  ["openai-chat", openaiChatCodec],
  ["openai-responses", openaiResponsesCodec],
] as Array<[string, Codec]>) {
  const root = join(import.meta.dirname, "fixtures", dir);
  const files = readdirSync(root).filter((f) => f.endsWith(".json"));

  describe(`${dir} golden fixtures`, () => {
    it("has request, response, stream and error fixtures", () => {
      for (const kind of ["request-", "response-", "stream-", "error-"]) expect(files.some((f) => f.startsWith(kind))).toBe(true);
    });

    for (const file of files) {
      const fx = JSON.parse(readFileSync(join(root, file), "utf8")) as Fixture;
      it(`${file}: ${fx.description}`, () => {
        if (file.startsWith("request-")) {
          const req = codec.decodeRequest(fx.wire);
          expect(req).toEqual(fx.canonical);
          expect(codec.encodeRequest(req, { model: req.model }).body).toEqual(fx.reencoded);
        } else if (file.startsWith("response-")) {
          const res = codec.decodeResponse(fx.wire);
          expect(res).toEqual(fx.canonical);
          // and our own encoding of it decodes to the same thing
          const req: CanonicalRequest = { model: res.model, messages: [], stream: false };
          expect(codec.decodeResponse(JSON.parse(JSON.stringify(codec.encodeResponse(res, req))))).toEqual(res);
        } else if (file.startsWith("stream-")) {
          expect(decodeStream(codec, toSse(fx.sse!))).toEqual(fx.events);
        } else if (file.startsWith("error-")) {
          const info = codec.decodeError(fx.status!, fx.wire);
          expect(info).toEqual(fx.canonical);
          const encoded = codec.encodeError(info);
          expect(encoded.status).toBe(fx.status);
          expect(encoded.body).toEqual(fx.reencoded ?? fx.wire);
        }
      });
    }
  });
}
