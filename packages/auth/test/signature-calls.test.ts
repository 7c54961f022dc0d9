// Counts calls of the real signature primitives (wrapped, not replaced) to show a cache hit does
// no signature work at all.
import { describe, expect, it, vi } from "vitest";

const calls = vi.hoisted(() => ({ ed25519: 0, secp256k1: 0 }));

vi.mock("../src/crypto.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../src/crypto.js")>();
  return {
    ...real,
    ed25519Verify: (...args: Parameters<typeof real.ed25519Verify>) => {
      calls.ed25519++;
      return real.ed25519Verify(...args);
    },
    eip191Recover: (...args: Parameters<typeof real.eip191Recover>) => {
      calls.secp256k1++;
      return real.eip191Recover(...args);
    },
  };
});

const { accountFromSeed, createAuthenticator, issuersOf, mintToken } = await import("../src/index.js");

describe("authenticator cache", () => {
  it.each([
    ["solana", "ed25519"],
    ["base", "secp256k1"],
  ] as const)("checks a %s signature once, then serves hits without it", async (chain, primitive) => {
    const account = await accountFromSeed(new Uint8Array(32).fill(31));
    const auth = createAuthenticator({ trusted: issuersOf(account), cacheSize: 10, revocationPollMs: 60_000, spendTtlMs: 1000 });
    try {
      const token = await mintToken(account, { models: ["openai:*"] }, { chain });
      const before = calls[primitive];
      await auth.authenticate(token, { model: "openai:gpt-4o" });
      expect(calls[primitive]).toBe(before + 1);
      for (let i = 0; i < 10; i++) await auth.authenticate(token, { model: "openai:gpt-4o" });
      expect(calls[primitive]).toBe(before + 1);
    } finally {
      auth.close();
    }
  });
});
