import { describe, expect, test } from "vitest";
import { newRequestId } from "../src/index.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newRequestId", () => {
  test("is a version 7 UUID carrying the time it was made", () => {
    const at = Date.UTC(2026, 11, 6, 9, 0, 0, 123);
    const id = newRequestId(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  test("ids made in later milliseconds sort after earlier ones, so the ledger's key only grows", () => {
    const start = Date.now();
    const ids = Array.from({ length: 1000 }, (_, i) => newRequestId(start + i * 7));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids.map((id) => id.slice(14))).size).toBe(1000); // the random part differs
  });

  test("ids made in the same millisecond differ, each a well-formed version 7 UUID", () => {
    const ids = Array.from({ length: 10_000 }, () => newRequestId(0));
    expect(new Set(ids).size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });
});
