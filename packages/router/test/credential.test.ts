import { describe, expect, it } from "vitest";
import { readCredential } from "../src/index.js";

const credential = (headers: Record<string, string>, url?: string) => readCredential(new Headers(headers), url ? new URL(url) : undefined);

describe("readCredential", () => {
  it("takes a Bearer token up to the first space or comma, any case of Bearer, any spacing after it", () => {
    expect(credential({ authorization: "Bearer jwt.token.sig" })).toBe("jwt.token.sig");
    expect(credential({ authorization: "bearer   jwt.token.sig" })).toBe("jwt.token.sig");
    expect(credential({ authorization: "BEARER\tjwt.token.sig" })).toBe("jwt.token.sig");
    expect(credential({ authorization: "Bearer jwt.token.sig, Payment abc" })).toBe("jwt.token.sig");
    expect(credential({ authorization: "Bearer jwt.token.sig,Payment abc" })).toBe("jwt.token.sig");
    expect(credential({ authorization: "Bearer jwt.token.sig trailing" })).toBe("jwt.token.sig");
    const long = `eyJ${"a".repeat(2000)}.sig`;
    expect(credential({ authorization: `Bearer ${long}` })).toBe(long);
  });

  it("falls back to the SDKs' key headers and the query when there is no Bearer token", () => {
    expect(credential({ authorization: "Basic dXNlcjpwYXNz", "x-api-key": "sk-ant" })).toBe("sk-ant");
    expect(credential({ authorization: "Bearer ", "x-goog-api-key": "g-key" })).toBe("g-key");
    expect(credential({ authorization: "Bearer , Payment abc" }, "http://h/v1beta/models/m:generateContent?key=q-key")).toBe("q-key");
    expect(credential({})).toBeUndefined();
  });
});
