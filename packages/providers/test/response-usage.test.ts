import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CODECS } from "../src/index.js";
import type { Protocol } from "@bitrouter/core";

const fixtures = new URL("./fixtures/", import.meta.url);

describe("a codec's response usage", () => {
  // The fast path meters a same-protocol answer from this one field: it must report what decoding
  // the whole answer reports, with the field present, absent or odd.
  for (const protocol of Object.keys(CODECS) as Protocol[]) {
    it(`matches decodeResponse's usage (${protocol})`, () => {
      const codec = CODECS[protocol];
      const { field, decode } = codec.responseUsage!;
      const bodies = readdirSync(new URL(`${protocol}/`, fixtures))
        .filter((name) => name.startsWith("response-"))
        .map((name) => (JSON.parse(readFileSync(new URL(`${protocol}/${name}`, fixtures), "utf8")) as { wire: Record<string, unknown> }).wire);
      expect(bodies.length).toBeGreaterThan(0);
      for (const body of bodies) {
        expect(body[field], `${protocol} fixture without '${field}'`).toBeDefined();
        const variants = [body, { ...body, [field]: undefined }, { ...body, [field]: "odd" }];
        for (const variant of variants) expect(decode(variant[field])).toEqual(codec.decodeResponse(variant).usage);
      }
    });
  }
});
