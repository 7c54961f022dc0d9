/**
 * Money as the CLI prints it: micro-USD (the ledger's integer unit) as dollars with all six
 * decimals, so every amount in a table or report has the same precision and sums line up.
 */
export function usd(microUsd: number | string): string {
  const value = typeof microUsd === "string" ? Number(microUsd) : microUsd;
  return `$${(value / 1_000_000).toFixed(6)}`;
}
