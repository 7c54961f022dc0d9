import { describe, expect, it } from "vitest";
import { nodeRequestHeaders } from "../src/node-headers.js";

// As Node's req.rawHeaders gives them: names as sent, repeats kept, in order.
const RAW = [
  "Host",
  "127.0.0.1:8787",
  "Content-Type",
  "application/json",
  "Authorization",
  "Bearer sk-abcdefghijklmnop",
  "X-Request-Id",
  "  caller-1\t",
  "anthropic-beta",
  "tools-2024",
  "Anthropic-Beta",
  "prompt-caching",
  "X-Empty",
  "",
];

function filled(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) if (!raw[i]!.startsWith(":")) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

describe("a Node request's headers as a Web Headers", () => {
  it("reads every header by name as a filled Headers does (any case, trimmed, repeats joined)", () => {
    const headers = nodeRequestHeaders(RAW)!;
    const expected = filled(RAW);
    for (const name of ["host", "content-type", "AUTHORIZATION", "x-request-id", "anthropic-beta", "x-empty", "x-api-key", "origin"]) {
      expect(headers.get(name)).toBe(expected.get(name));
      expect(headers.has(name)).toBe(expected.has(name));
    }
    expect(headers).toBeInstanceOf(Headers);
  });

  it("gives a hook that iterates or changes them the same Headers", () => {
    const headers = nodeRequestHeaders([":authority", "example", ...RAW])!;
    expect([...headers]).toEqual([...filled(RAW)]);
    headers.set("x-request-id", "set-by-hook");
    headers.delete("authorization");
    headers.append("x-added", "1");
    expect(headers.get("x-request-id")).toBe("set-by-hook");
    expect(headers.has("authorization")).toBe(false);
    expect(Object.fromEntries(headers.entries())).toMatchObject({ "x-added": "1", "anthropic-beta": "tools-2024, prompt-caching" });
  });

  it("refuses a value a Headers refuses", () => {
    expect(nodeRequestHeaders(["X-Bad", "a\rb"])).toBeUndefined();
    expect(nodeRequestHeaders(["X-Bad", "a\nb"])).toBeUndefined();
    expect(nodeRequestHeaders(["X-Bad", "a\0b"])).toBeUndefined();
    expect(nodeRequestHeaders(["Authorization", `Bearer ${"t".repeat(600)}\0`])).toBeUndefined();
    expect(() => filled(["X-Bad", "a\rb"])).toThrow();
  });
});
