import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLedger, type LedgerRow, openStore, type Store, usage } from "../src/index.js";
import { allBackends, type TestDatabase } from "./backends.js";

const T0 = Date.UTC(2026, 2, 1);

function toolCall(id: string, tool: string, extra: Partial<LedgerRow> = {}): LedgerRow {
  const [server, name] = tool.split("/") as [string, string];
  return {
    id,
    createdAt: T0,
    inboundProtocol: "mcp",
    route: `${server}__${name}`,
    provider: server,
    model: name,
    stream: false,
    status: 200,
    latencyMs: 3,
    tool,
    ...extra,
  };
}

describe.each(allBackends)("$name: tool calls on the ledger", (backend) => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await backend.create();
    store = await openStore(database.url);
    const ledger = createLedger(store, { flushIntervalMs: 60_000 });
    ledger.record(toolCall("t1", "github/create_issue", { costMicroUsd: 1000 }));
    ledger.record(toolCall("t2", "github/create_issue", { costMicroUsd: 1000 }));
    ledger.record(toolCall("t3", "exa/search", { status: 503, errorKind: "upstream_unavailable" }));
    // A model request: no tool, so not in the by-tool report.
    ledger.record({
      id: "m1",
      createdAt: T0,
      inboundProtocol: "openai-chat",
      route: "gpt-4o",
      provider: "openai",
      model: "gpt-4o",
      stream: false,
      status: 200,
      latencyMs: 9,
      costMicroUsd: 5,
    });
    await ledger.close();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  test("usage by tool counts calls, errors and spend per server/tool, model requests left out", async () => {
    const rows = await usage(store, { groupBy: "tool" });
    expect(rows.map((r) => [r.group, r.requests, r.errors, r.costMicroUsd])).toEqual([
      ["exa/search", 1, 1, 0],
      ["github/create_issue", 2, 0, 2000],
    ]);
  });
});
