// The README's example, run as written on each database the store supports (the URL comes from
// BITROUTER_DATABASE_URL, as a user would set it).
import { afterEach, describe, expect, it, vi } from "vitest";
import { importExample, tsExample } from "@bitrouter/testkit";
import { postgresBackend, mysqlBackend, type TestDatabase } from "./backends.js";

let database: TestDatabase | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await database?.drop();
  database = undefined;
});

async function runExample(): Promise<unknown[][]> {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);
  return log.mock.calls;
}

const expected = [[[expect.objectContaining({ group: "gpt-4o", requests: 1, errors: 0, inputTokens: 1200, outputTokens: 300, costMicroUsd: 6000 })]]];

describe("README: one ledger row, then usage by model", () => {
  it("on the default in-memory SQLite", async () => {
    vi.stubEnv("BITROUTER_DATABASE_URL", undefined);
    expect(await runExample()).toEqual(expected);
  });

  for (const backend of [postgresBackend, mysqlBackend]) {
    it(`on ${backend.name}`, async () => {
      database = await backend.create();
      vi.stubEnv("BITROUTER_DATABASE_URL", database.url);
      expect(await runExample()).toEqual(expected);
    });
  }
});
