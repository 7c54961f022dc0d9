import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { AppRuntime } from "../src/app.js";
import { createApp, createListener } from "../src/app.js";

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

describe("an inference request served straight from the Node listener (no Hono)", () => {
  it("answers an opaque 500 and logs the error with the request id when the handler throws", async () => {
    const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const runtime: AppRuntime = {
      router: () => {
        throw new Error("router handle exploded");
      },
      bodyLimit: () => 1024,
      health: () => ({}),
      crossSite: () => ({ open: true, listenHost: "127.0.0.1", corsOrigins: [] }),
      logError: (message, fields) => {
        logged.push({ message, fields });
      },
    };
    const server = createServer(createListener(runtime, createApp(runtime)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).toContain("internal error");
      expect(text).not.toContain("exploded");
      expect(logged).toHaveLength(1);
      expect(logged[0]?.fields.request_id).toEqual(expect.any(String));
      expect(String(logged[0]?.fields.error)).toContain("router handle exploded");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
