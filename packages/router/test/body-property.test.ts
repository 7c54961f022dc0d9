// Property tests of the body scan and splice (body.ts): for random JSON objects, written compactly
// or indented, the scan finds every top-level field as JSON.parse reads it, and the spliced body
// (one buffer, or parts of the caller's bytes from SPLICE_IN_PARTS_FROM on) is the caller's object
// with only `model` replaced and the added fields appended.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RequestBody, SPLICE_IN_PARTS_FROM, scanTopLevel, spliceBody } from "../src/body.js";

const RUNS = { numRuns: 400 };

/** Strings with escapes, quotes, backslashes and non-ASCII, sometimes long enough to be sent in parts. */
const text = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom('"', "\\", '\\"', "\u0000\n\t", "é\u2028😀", '{"model":"inner"}') },
  { weight: 1, arbitrary: fc.string({ minLength: SPLICE_IN_PARTS_FROM, maxLength: SPLICE_IN_PARTS_FROM + 2000 }) },
);

const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: "small" },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("json"), { maxLength: 4 }),
    fc.dictionary(text, tie("json"), { maxKeys: 4 }),
  ),
})).json;

/** A request body: a JSON object with a string `model` among other top-level fields. */
const body = fc.record({
  fields: fc.dictionary(
    text.filter((k) => k !== "model"),
    value,
    { maxKeys: 6 },
  ),
  model: text,
  at: fc.nat(),
  indent: fc.constantFrom(undefined, 1, "\t"),
});

function serialise({ fields, model, at, indent }: { fields: Record<string, unknown>; model: string; at: number; indent: number | string | undefined }) {
  const entries = Object.entries(fields);
  entries.splice(at % (entries.length + 1), 0, ["model", model]);
  const object = Object.fromEntries(entries);
  return { raw: Buffer.from(JSON.stringify(object, null, indent)) };
}

const joined = (bytes: Buffer | Buffer[]) => (Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);

/** The body cut at the given points (any byte: inside a key, a number, a multi-byte character), as socket reads cut it. */
function cut(raw: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (raw.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of [...at, raw.length]) {
    parts.push(Buffer.from(raw.subarray(from, point))); // copies: each part its own memory, as a read's
    from = point;
  }
  return parts;
}

describe("the body scan (property)", () => {
  it("finds every top-level field as JSON.parse reads it", () => {
    fc.assert(
      fc.property(body, (generated) => {
        const { raw } = serialise(generated);
        const parsed = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
        const scanned = new RequestBody(raw);
        expect(scanned.top).toBeDefined(); // scanned, not parsed whole
        for (const [key, expected] of Object.entries(parsed)) {
          expect(scanned.has(key)).toBe(true);
          expect(scanned.get(key)).toEqual(expected);
        }
        expect(scanned.has("no such field")).toBe(Object.hasOwn(parsed, "no such field"));
      }),
      RUNS,
    );
  });

  it("splices the model and added fields into the caller's bytes, leaving the rest as it was", () => {
    fc.assert(
      fc.property(body, text, fc.dictionary(fc.constantFrom("max_tokens", "stream_options", "extra"), value, { maxKeys: 2 }), (generated, model, add) => {
        const { raw } = serialise(generated);
        const parsed = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
        const free = Object.fromEntries(Object.entries(add).filter(([key]) => !Object.hasOwn(parsed, key)));
        const top = scanTopLevel(raw)!;
        const spliced = spliceBody(top, { model, add: free });
        expect(spliced).toBeDefined();
        expect(Array.isArray(spliced)).toBe(raw.length >= SPLICE_IN_PARTS_FROM);
        const out = joined(spliced!);
        // The added values as JSON carries them (a -0 arrives as 0).
        expect(JSON.parse(out.toString("utf8"))).toEqual({ ...parsed, model, ...(JSON.parse(JSON.stringify(free)) as object) });
        // Every byte before the model's value and between it and the closing brace is the caller's.
        const span = top.values.get("model")!;
        const replaced = Buffer.from(JSON.stringify(model));
        expect(out.subarray(0, span.start).equals(raw.subarray(0, span.start))).toBe(true);
        const after = span.start + replaced.length;
        expect(out.subarray(after, after + (top.close - span.end)).equals(raw.subarray(span.end, top.close))).toBe(true);
      }),
      RUNS,
    );
  });

  it("reads and splices a body in parts exactly as the same body in one buffer, without joining them", () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), text, body, (generated, points, model, other) => {
        const { raw } = serialise(generated);
        const parts = cut(raw, points);
        const whole = new RequestBody(raw);
        const inParts = new RequestBody(parts);
        expect(inParts.top).toBeDefined();
        // Another body scanned in between reuses the scan's buffer: what was read before must not change.
        new RequestBody(cut(serialise(other).raw, points));
        for (const key of whole.top!.values.keys()) expect(inParts.get(key)).toEqual(whole.get(key));
        const spliced = spliceBody(inParts.top!, { model, add: { extra: 1 } });
        const expected = spliceBody(whole.top!, { model, add: { extra: 1 } });
        expect(spliced === undefined).toBe(expected === undefined); // undefined when the body has `extra` already
        if (spliced && expected) expect(joined(spliced).equals(joined(expected))).toBe(true);
        // A large body goes out as views of the caller's parts: every byte but the old model's value, none copied.
        if (Array.isArray(spliced)) {
          const span = inParts.top!.values.get("model")!;
          const inPlace = spliced.filter((part) =>
            parts.some((p) => part.buffer === p.buffer && part.byteOffset >= p.byteOffset && part.byteOffset + part.length <= p.byteOffset + p.length),
          );
          expect(inPlace.reduce((n, part) => n + part.length, 0)).toBe(raw.length - (span.end - span.start));
        }
        expect(inParts.parsed()).toEqual(whole.parsed());
      }),
      RUNS,
    );
  });

  it("refuses a body in parts exactly where it refuses the same bytes in one buffer", () => {
    fc.assert(
      fc.property(body, fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), (generated, drop, points) => {
        const { raw } = serialise(generated);
        const broken = Buffer.concat([raw.subarray(0, drop % raw.length), raw.subarray((drop % raw.length) + 1)]); // one byte gone
        expect(scanTopLevel(cut(broken, points)) === undefined).toBe(scanTopLevel(broken) === undefined);
      }),
      RUNS,
    );
  });
});
