// The README's example, run as written.
import { afterEach, expect, it, vi } from "vitest";
import { importExample, tsExample } from "@bitrouter/testkit";

afterEach(() => vi.restoreAllMocks());

it("README: a minted key is accepted for its models and refused for others", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);

  expect(log.mock.calls).toEqual([
    ["api", ["openai:*"]],
    [403, "model_not_allowed"],
  ]);
});
