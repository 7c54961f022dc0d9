import { describe, expect, it } from "vitest";
import { accountFromSeed, createAuthenticator, decodeToken, tokenSupplier } from "../src/index.js";

const account = await accountFromSeed(new Uint8Array(32).fill(7));

describe("tokenSupplier", () => {
  it("mints an api key another BitRouter operated by the account accepts, and reuses it until close to expiry", async () => {
    let now = Date.UTC(2026, 0, 1);
    const supply = tokenSupplier(account, { now: () => now });
    const first = await supply();
    const claims = decodeToken(first);
    expect(claims.scope).toBe("api");
    expect(claims.exp! - claims.iat!).toBe(3600);
    const auth = createAuthenticator({ trusted: [account.solanaAddress], now: () => now });
    try {
      await expect(auth.authenticate(first, { model: "any:model" })).resolves.toMatchObject({ scope: "api" });
    } finally {
      auth.close();
    }
    now += 3600_000 - 301_000; // more than five minutes left: the same token
    expect(await supply()).toBe(first);
    now += 2_000; // under five minutes left: a new one
    const second = await supply();
    expect(second).not.toBe(first);
    expect(decodeToken(second).exp).toBe(Math.floor(now / 1000) + 3600);
  });

  it("concurrent callers share one signing", async () => {
    const supply = tokenSupplier(account);
    const tokens = await Promise.all([supply(), supply(), supply()]);
    expect(new Set(tokens).size).toBe(1);
  });

  it("a failed signing is not cached: the next call mints again", async () => {
    let now = Number.NaN; // a clock gone wrong: the claims are invalid and minting fails
    const supply = tokenSupplier(account, { now: () => now });
    await expect(supply()).rejects.toThrow(/cannot mint/);
    now = Date.now();
    expect(decodeToken(await supply()).scope).toBe("api");
  });
});
