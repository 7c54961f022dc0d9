// The open protocol registry: a provider package's codec is added under a new name, validated, and
// found by the router's lookup beside the built-in four (which it cannot replace).
import { describe, expect, it } from "vitest";
import { CODECS, codecTable, registerProtocol, upstreamProtocol, type UpstreamCodec } from "../src/index.js";

const codec = (protocol: string): UpstreamCodec => ({
  protocol,
  encodeRequest: () => ({ path: "/generate", body: {} }),
  decodeResponse: () => ({ id: "", model: "", created: 0, content: [], stopReason: "stop", usage: { inputTokens: 0, outputTokens: 0 } }),
  createStreamDecoder: () => ({ decode: () => [], end: () => [] }),
  decodeError: (status) => ({ kind: "upstream", status, message: "x" }),
});

describe("registerProtocol", () => {
  it("adds a codec that api_protocol can name; the built-ins stay as they are", () => {
    const registry: Record<string, UpstreamCodec> = {};
    registerProtocol(registry, "acme-v1", codec("acme-v1"));
    expect(upstreamProtocol("acme-v1", registry)).toBe("acme-v1");
    expect(upstreamProtocol("openai", registry)).toBe("openai-chat");
    expect(upstreamProtocol("acme-v2", registry)).toBeUndefined();
    expect(upstreamProtocol("mcp", registry)).toBeUndefined();
    const table = codecTable(registry);
    expect(table["acme-v1"]).toBe(registry["acme-v1"]);
    expect(table.anthropic).toBe(CODECS.anthropic);
  });

  it("refuses a built-in name, a bad name, a clash, a codec missing methods or naming another protocol", () => {
    const registry: Record<string, UpstreamCodec> = { "acme-v1": codec("acme-v1") };
    const attempt = (name: string, c: UpstreamCodec) => () => registerProtocol(registry, name, c);
    expect(attempt("anthropic", codec("anthropic"))).toThrow('protocol "anthropic" is built in and cannot be replaced');
    expect(attempt("openai", codec("openai"))).toThrow('protocol "openai" is built in');
    expect(attempt("Acme V2", codec("Acme V2"))).toThrow('protocol name "Acme V2": expected lowercase letters');
    expect(attempt("acme-v1", codec("acme-v1"))).toThrow('protocol "acme-v1" is already registered');
    const { decodeError: _, ...partial } = codec("acme-v2");
    expect(attempt("acme-v2", partial as UpstreamCodec)).toThrow('protocol "acme-v2": the codec does not implement decodeError');
    expect(attempt("acme-v2", codec("acme"))).toThrow(`the codec's protocol field is "acme"; it must be "acme-v2"`);
    expect(Object.keys(registry)).toEqual(["acme-v1"]);
  });
});
