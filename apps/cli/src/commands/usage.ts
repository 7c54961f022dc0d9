// `bitrouter usage`: spend and tokens from the ledger, by day, model, provider, key or route.
// Reads the database directly, so it works whether or not a server is running.
import { Command, Option } from "clipanion";
import type { UsageGroupBy } from "@bitrouter/store";
import { BitrouterCommand } from "../base.js";
import { renderTable } from "../usage-table.js";

const GROUPS = ["day", "model", "provider", "key", "route", "tool"] as const;

export class UsageCommand extends BitrouterCommand {
  static override paths = [["usage"]];
  static override usage = Command.Usage({
    description: "Show requests, tokens and spend from the ledger",
    details:
      "Groups the request ledger by day (UTC), model, provider, key, route, or tool (the MCP gateway's tool calls). Costs are exact, computed from the catalog pricing at request time.",
    examples: [
      ["Spend per day", "bitrouter usage"],
      ["Spend per model over the last week", "bitrouter usage --by model --since 7d"],
      ["As JSON", "bitrouter usage --by provider --json"],
      ["Calls and spend per MCP tool", "bitrouter usage --by tool"],
    ],
  });

  by = Option.String("--by", "day", { description: "day | model | provider | key | route | tool (MCP tool calls)" });
  since = Option.String("--since", { description: "Start: an ISO date (2026-11-01) or a duration back from now (24h, 7d)" });
  until = Option.String("--until", { description: "End (exclusive): an ISO date" });
  key = Option.String("--key", { description: "Only this key id" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    if (!GROUPS.includes(this.by as UsageGroupBy)) {
      this.context.stderr.write(`Usage error: --by must be one of ${GROUPS.join(", ")}; got '${this.by}'\n`);
      return 2;
    }
    const since = this.since === undefined ? undefined : parseWhen(this.since);
    const until = this.until === undefined ? undefined : parseWhen(this.until);
    if (since === null || until === null) {
      this.context.stderr.write("Usage error: --since/--until take an ISO date (2026-11-01) or a duration such as 24h or 7d\n");
      return 2;
    }
    const { paths } = await this.loadConfig({ scaffold: false });
    const { openStore, usage } = await import("@bitrouter/store");
    const store = await openStore(paths.databaseUrl, { baseDir: paths.home });
    try {
      const rows = await usage(store, {
        groupBy: this.by as UsageGroupBy,
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(this.key === undefined ? {} : { keyId: this.key }),
      });
      if (this.json) {
        this.context.stdout.write(`${JSON.stringify({ group_by: this.by, rows }, null, 2)}\n`);
        return 0;
      }
      this.context.stdout.write(renderTable(this.by, rows));
      return 0;
    } finally {
      await store.close();
    }
  }
}

/** `2026-11-01`, a full ISO timestamp, or `24h` / `7d` / `30m` back from now. */
export function parseWhen(text: string, now = Date.now()): number | null {
  const duration = /^(\d+)([smhd])$/.exec(text);
  if (duration) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as "s" | "m" | "h" | "d"];
    return now - Number(duration[1]) * unit;
  }
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}
