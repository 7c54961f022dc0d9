import type { UsageRow } from "@bitrouter/store";
import { describe, expect, it } from "vitest";
import { renderTable } from "../src/usage-table.js";

const row = (group: string, costMicroUsd: number): UsageRow => ({
  group,
  requests: 1,
  errors: 0,
  inputTokens: 10,
  outputTokens: 5,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  costMicroUsd,
});

describe("bitrouter usage table", () => {
  it("prints every amount with one precision, small and large alike, so the column and the total line up", () => {
    const table = renderTable("model", [row("cheap", 5), row("dear", 1_234_500), row("free", 0)]);
    expect(table.match(/\$[\d.]+/g)).toEqual(["$0.000005", "$1.234500", "$0.000000", "$1.234505"]);
    const costs = table
      .split("\n")
      .slice(1, 4)
      .map((line) => line.length);
    expect(new Set(costs).size).toBe(1); // right-aligned in one column
  });
});
