import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";

describe("a handler that throws", () => {
  it("answers an opaque 500 and logs the error with the request id", async () => {
    const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const app = createApp({
      router: () => {
        throw new Error("no router in this test");
      },
      bodyLimit: () => 1024,
      health: () => {
        throw new Error("health probe exploded: db handle closed");
      },
      crossSite: () => ({ open: true, listenHost: "127.0.0.1", corsOrigins: [] }),
      logError: (message, fields) => {
        logged.push({ message, fields });
      },
    });
    const response = await app.request("http://127.0.0.1/health", { headers: { "x-request-id": "req-probe-1" } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain("internal error");
    expect(text).not.toContain("exploded");
    expect(logged).toHaveLength(1);
    // The log line carries the server's own request id (the key of the ledger row), not the caller's.
    expect(logged[0]?.fields).toMatchObject({ path: "/health" });
    expect(logged[0]?.fields.request_id).toEqual(expect.any(String));
    expect(String(logged[0]?.fields.error)).toContain("health probe exploded");
  });
});
