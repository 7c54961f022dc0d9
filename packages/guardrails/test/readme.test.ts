// The README's example, run as written.
import { afterEach, expect, it, vi } from "vitest";
import { importExample, tsExample } from "@bitrouter/testkit";

afterEach(() => vi.restoreAllMocks());

it("README: redacts a key and a custom pattern upgoing, blocks a destructive command downgoing", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);

  expect(log.mock.calls).toEqual([
    ["violation:", "api_keys", "redact"],
    ["violation:", "ticket", "redact"],
    ["Deploy with key [REDACTED:api_keys], see [REDACTED:ticket]"],
    ["violation:", "suspicious_commands", "block"],
    [expect.stringMatching(/^Response blocked by guardrails: pattern "suspicious_commands"/)],
  ]);
});
