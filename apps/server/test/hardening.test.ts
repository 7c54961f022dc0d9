/**
 * Hardening (issue 13): ids callers cannot collide, open mode that a web page cannot drive, and
 * inputs that break parsers answered as 400 in the caller's protocol, on the ledger.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
let server: TestServer;
beforeAll(async () => {
  mock = await startMock();
  server = await startTestServer(providersYaml(mock), { database: "sqlite://bitrouter.db" });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const json = { "content-type": "application/json" };
const ledgerRows = async () => {
  const { ledger, store } = server.runtime.metering!;
  await ledger.flush();
  return store.db.selectFrom("requests").selectAll().orderBy("created_at").execute();
};

describe("request ids", () => {
  it("a caller repeating its x-request-id gets one ledger row per request, keyed by the server", async () => {
    const before = (await ledgerRows()).length;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...json, "x-request-id": "same-id" },
        body: JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
      // The answer still echoes the caller's id, so its traces join up.
      expect(res.headers.get("x-request-id")).toBe("same-id");
      await res.text();
    }
    const rows = (await ledgerRows()).slice(before);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.client_request_id)).toEqual(["same-id", "same-id", "same-id"]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
    for (const row of rows) expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
