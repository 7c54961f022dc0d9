// The `bitrouter usage` table (a module of its own: plain text from rows, no CLI machinery).
import type { UsageRow } from "@bitrouter/store";
import { usd } from "./money.js";

/** One row per group, money in one precision, and the total. */
export function renderTable(by: string, rows: UsageRow[]): string {
  if (rows.length === 0) return "No requests on the ledger for this period.\n";
  const header = [by.toUpperCase(), "REQUESTS", "ERRORS", "INPUT", "CACHED", "OUTPUT", "COST"];
  const body = rows.map((r) => [
    r.group ?? "(none)",
    String(r.requests),
    String(r.errors),
    String(r.inputTokens),
    String(r.cacheReadTokens),
    String(r.outputTokens),
    usd(r.costMicroUsd),
  ]);
  const total = rows.reduce((sum, r) => sum + Number(r.costMicroUsd), 0);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return `${all.map(line).join("\n")}\n${"".padEnd(widths[0]!)}  total ${usd(total)}\n`;
}
