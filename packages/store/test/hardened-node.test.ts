import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bitrouter-store-hardened-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("under node --disallow-code-generation-from-strings", () => {
  it("loads, and the SQLite ledger writes every row", () => {
    const script = `
      const { createLedger, openStore } = await import(${JSON.stringify(dist)});
      const store = await openStore(${JSON.stringify(`sqlite://${join(dir, "ledger.db")}`)});
      const ledger = createLedger(store, { flushIntervalMs: 60_000 });
      for (let i = 0; i < 3; i++) {
        ledger.record({ id: "req-" + i, createdAt: Date.now(), inboundProtocol: "openai-chat", route: "m", model: "m", stream: false, status: 200, latencyMs: 1 });
      }
      await ledger.close();
      const rows = await store.db.selectFrom("requests").select(["id"]).orderBy("id").execute();
      console.log(rows.map((r) => r.id).join(","));
      await store.close();
    `;
    const out = execFileSync(process.execPath, ["--disallow-code-generation-from-strings", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(out.trim()).toBe("req-0,req-1,req-2");
  });
});
