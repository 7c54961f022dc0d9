import { afterEach, describe, expect, it } from "vitest";
import {
  type Account,
  AuthError,
  type Authenticator,
  type AuthenticatorOptions,
  type MintClaims,
  type Revocation,
  type SpendQuery,
  accountFromSeed,
  createAuthenticator,
  issuersOf,
  mintToken,
} from "../src/index.js";
import { seedOf } from "./helpers.js";

const T0 = Date.UTC(2026, 0, 1);

/** A controllable clock shared by the authenticator and the fake store. */
class Clock {
  t = T0;
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/** An in-memory ledger with the store's spend semantics (since: inclusive; lastRounds: newest N). */
class FakeLedger {
  rows: { keyId: string; accountId: string; at: number; microUsd: number }[] = [];
  reads: SpendQuery[] = [];
  async spend(q: SpendQuery) {
    this.reads.push(q);
    let rows = this.rows.filter((r) => (q.keyId === undefined || r.keyId === q.keyId) && (q.accountId === undefined || r.accountId === q.accountId));
    if (q.since !== undefined) rows = rows.filter((r) => r.at >= q.since!);
    if (q.lastRounds !== undefined) rows = [...rows].sort((a, b) => b.at - a.at).slice(0, q.lastRounds);
    return { microUsd: rows.reduce((s, r) => s + r.microUsd, 0), requests: rows.length };
  }
}

class FakeRevocations {
  list: Revocation[] = [];
  calls: (number | undefined)[] = [];
  failing = false;
  async isRevoked(keyId: string) {
    return this.list.some((r) => r.keyId === keyId);
  }
  async listRevocations(since?: number) {
    this.calls.push(since);
    if (this.failing) throw new Error("store down");
    return this.list.filter((r) => since === undefined || r.revokedAt >= since);
  }
}

const open: Authenticator[] = [];
afterEach(() => {
  for (const a of open.splice(0)) a.close();
});

function make(account: Account, extra: Partial<AuthenticatorOptions> = {}): Authenticator {
  const auth = createAuthenticator({ trusted: issuersOf(account), cacheSize: 100, revocationPollMs: 60_000, spendTtlMs: 1_000, ...extra });
  open.push(auth);
  return auth;
}

async function fails(promise: Promise<unknown>): Promise<AuthError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AuthError);
  return e as AuthError;
}

describe("authenticate", () => {
  it("returns the principal: key id, account (issuer), scope, claims", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account);
    const p = await auth.authenticate(await mintToken(account, { id: "k1" }, { chain: "base" }), { model: "openai:gpt-4o" });
    expect(p).toMatchObject({ keyId: "k1", accountId: `eip155:8453:${account.evmAddress.toLowerCase()}`, scope: "api" });
  });

  it("rejects a missing credential and a foreign issuer with 401", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account);
    expect((await fails(auth.authenticate(undefined, {}))).code).toBe("missing_credential");
    expect((await fails(auth.authenticate("  ", {}))).code).toBe("missing_credential");
    const stranger = await accountFromSeed(seedOf(22));
    const err = await fails(auth.authenticate(await mintToken(stranger, {}), {}));
    expect([err.status, err.code]).toEqual([401, "untrusted_issuer"]);
  });

  it("serves a repeated token from the cache without a second signature check", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account);
    const token = await mintToken(account, {});
    for (let i = 0; i < 5; i++) await auth.authenticate(token, { model: "x" });
    expect(auth.stats()).toMatchObject({ verifications: 1, cacheMisses: 1, cacheHits: 4, cachedTokens: 1 });
    await auth.authenticate(await mintToken(account, {}), {});
    expect(auth.stats().verifications).toBe(2);
  });

  it("does not cache failures, and bounds the cache", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account, { cacheSize: 3 });
    const [h, p] = (await mintToken(account, {})).split(".");
    const forged = `${h}.${p}.${Buffer.alloc(64, 1).toString("base64url")}`;
    await fails(auth.authenticate(forged, {}));
    await fails(auth.authenticate(forged, {}));
    expect(auth.stats().verifications).toBe(2);
    for (let i = 0; i < 5; i++) await auth.authenticate(await mintToken(account, {}), {});
    expect(auth.stats().cachedTokens).toBe(3);
  });

  it("evicts the token used least recently, however often the newest is used again", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account, { cacheSize: 2 });
    const [t1, t2, t3] = [await mintToken(account, { id: "k1" }), await mintToken(account, { id: "k2" }), await mintToken(account, { id: "k3" })];
    await auth.authenticate(t1, {});
    await auth.authenticate(t2, {});
    await auth.authenticate(t2, {}); // already the newest
    expect(auth.admitCached(t1, {})?.keyId).toBe("k1"); // t1 becomes the newest
    await auth.authenticate(t1, {});
    expect(auth.stats().verifications).toBe(2);
    await auth.authenticate(t3, {}); // evicts t2
    await auth.authenticate(t1, {});
    expect(auth.stats().verifications).toBe(3);
    await auth.authenticate(t2, {});
    expect(auth.stats().verifications).toBe(4);
  });

  it("admits from the cache only the very token verified: another payload under a cached signature is checked and refused", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account);
    const token = await mintToken(account, { id: "k-api", scope: "api" });
    await auth.authenticate(token, {});
    // The same signature under claims the issuer never signed (admin scope): the cache is keyed by
    // the signature, so this must not be taken for the cached token.
    const [h, , sig] = token.split(".");
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: "admin" })).toString("base64url")}.${sig}`;
    expect(auth.admitCached(forged, { needAdmin: true })).toBeUndefined();
    const err = await fails(auth.authenticate(forged, { needAdmin: true }));
    expect([err.status, err.code]).toEqual([401, "bad_signature"]);
    expect(auth.stats()).toMatchObject({ verifications: 2, cacheHits: 0 });
    // The genuine token is still served from the cache, and the forged one did not displace it.
    expect(auth.admitCached(token, {})?.keyId).toBe("k-api");
    expect((await auth.authenticate(token, {})).scope).toBe("api");
    expect(auth.stats().verifications).toBe(2);
  });

  it("expires a cached token at its exp", async () => {
    const account = await accountFromSeed(seedOf(21));
    const clock = new Clock();
    const auth = make(account, { now: clock.now });
    const token = await mintToken(account, { exp: T0 / 1000 + 60 });
    await auth.authenticate(token, {});
    clock.advance(59_999);
    await auth.authenticate(token, {});
    clock.advance(1);
    expect((await fails(auth.authenticate(token, {}))).code).toBe("token_expired");
    expect(auth.stats().verifications).toBe(1);
  });

  it("needs admin scope for admin endpoints (403), api scope is enough otherwise", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account);
    const api = await mintToken(account, { scope: "api" });
    const err = await fails(auth.authenticate(api, { needAdmin: true }));
    expect([err.status, err.kind, err.code]).toEqual([403, "permission", "insufficient_scope"]);
    await expect(auth.authenticate(await mintToken(account, { scope: "admin" }), { needAdmin: true, model: "any" })).resolves.toMatchObject({ scope: "admin" });
    await expect(auth.authenticate(api, {})).resolves.toMatchObject({ scope: "api" });
  });

  it("enforces the models allowlist with a 403 naming the model", async () => {
    const account = await accountFromSeed(seedOf(21));
    const auth = make(account);
    const token = await mintToken(account, { models: ["openai:*", "anthropic:claude-*"] });
    await expect(auth.authenticate(token, { model: "anthropic:claude-sonnet-4-20250514" })).resolves.toBeTruthy();
    const err = await fails(auth.authenticate(token, { model: "google:gemini-2.5-pro" }));
    expect([err.status, err.code]).toEqual([403, "model_not_allowed"]);
    expect(err.message).toContain("google:gemini-2.5-pro");
  });
});

describe("revocation", () => {
  it("is instant on the revoking instance and reaches others at the next poll", async () => {
    const account = await accountFromSeed(seedOf(23));
    const store = new FakeRevocations();
    const here = make(account, { revocations: store });
    const there = make(account, { revocations: store });
    const token = await mintToken(account, { id: "doomed" });
    await here.authenticate(token, {});
    await there.authenticate(token, {});

    // The host revokes: records it in the store and tells its own authenticator.
    store.list.push({ keyId: "doomed", revokedAt: Date.now() });
    here.revoke("doomed");
    expect((await fails(here.authenticate(token, {}))).code).toBe("key_revoked");
    await expect(there.authenticate(token, {})).resolves.toBeTruthy(); // stale until its poll
    await there.refreshRevocations();
    expect((await fails(there.authenticate(token, {}))).code).toBe("key_revoked");
    expect(there.stats().revokedKeys).toBe(1);
  });

  it("polls on a timer, asking only for recent revocations after the first load", async () => {
    const account = await accountFromSeed(seedOf(23));
    const store = new FakeRevocations();
    store.list.push({ keyId: "old", revokedAt: 1_000_000 });
    const auth = make(account, { revocations: store, revocationPollMs: 20 });
    const token = await mintToken(account, { id: "late" });
    await expect(auth.authenticate(token, {})).resolves.toBeTruthy();
    store.list.push({ keyId: "late", revokedAt: 2_000_000 });
    await expect
      .poll(
        () =>
          auth.authenticate(token, {}).then(
            () => "ok",
            (e: AuthError) => e.code,
          ),
        { timeout: 2_000 },
      )
      .toBe("key_revoked");
    expect(store.calls[0]).toBeUndefined();
    expect(store.calls.slice(1).every((since) => since === 1_000_000 - 60_000 || since === 2_000_000 - 60_000)).toBe(true);
  });

  it("falls back to asking about the key when the revocation list never loaded", async () => {
    const account = await accountFromSeed(seedOf(23));
    const store = new FakeRevocations();
    store.failing = true;
    store.list.push({ keyId: "bad", revokedAt: 1 });
    const errors: string[] = [];
    const auth = make(account, { revocations: store, onError: (_e, ctx) => errors.push(ctx) });
    expect((await fails(auth.authenticate(await mintToken(account, { id: "bad" }), {}))).code).toBe("key_revoked");
    await expect(auth.authenticate(await mintToken(account, { id: "good" }), {})).resolves.toBeTruthy();
    await expect.poll(() => errors.length).toBeGreaterThan(0);
    expect(auth.stats().revocationPollErrors).toBeGreaterThan(0);
  });
});

describe("budgets", () => {
  async function setup(claims: MintClaims, chain: "solana" | "base" = "solana") {
    const account = await accountFromSeed(seedOf(24));
    const clock = new Clock();
    const ledger = new FakeLedger();
    const auth = make(account, { spend: ledger, now: clock.now, spendTtlMs: 1_000 });
    const token = await mintToken(account, claims, { chain, now: T0 });
    /** One completed request: the host writes the ledger row and tells the authenticator. */
    const complete = async (microUsd: number) => {
      const p = await auth.authenticate(token, { model: "m" });
      ledger.rows.push({ keyId: p.keyId, accountId: p.accountId, at: clock.t, microUsd });
      auth.addSpend(p, microUsd);
      return p;
    };
    return { account, clock, ledger, auth, token, complete };
  }

  it("blocks with 429 budget_exceeded once spend reaches the budget (local increments, no re-read)", async () => {
    const { auth, token, complete, ledger } = await setup({ budget: 300, id: "b1" });
    await complete(100);
    await complete(100);
    await complete(100);
    const err = await fails(auth.authenticate(token, { model: "m" }));
    expect([err.status, err.kind, err.code]).toEqual([429, "rate_limit", "budget_exceeded"]);
    expect(err.message).toContain("300 of 300");
    expect(ledger.reads).toHaveLength(1); // all within the TTL: the local increments did the work
  });

  it("re-reads the SpendSource after the TTL (spend by other instances counts)", async () => {
    const { auth, token, clock, ledger, account } = await setup({ budget: 500, id: "b2" });
    await auth.authenticate(token, {});
    ledger.rows.push({ keyId: "b2", accountId: `solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:${account.solanaAddress}`, at: clock.t, microUsd: 500 });
    await expect(auth.authenticate(token, {})).resolves.toBeTruthy(); // cached spend, within TTL
    clock.advance(1_000);
    expect((await fails(auth.authenticate(token, {}))).code).toBe("budget_exceeded");
  });

  it("keeps this instance's unflushed spend when an all-time re-read comes back lower", async () => {
    const { auth, token, clock, ledger } = await setup({ budget: 300 });
    for (let i = 0; i < 3; i++) {
      const p = await auth.authenticate(token, {});
      auth.addSpend(p, 100); // the ledger row is still queued: the fake store never sees it
      clock.advance(1_000);
    }
    expect((await fails(auth.authenticate(token, {}))).code).toBe("budget_exceeded");
    expect(ledger.reads.length).toBeGreaterThan(1);
  });

  it("counts the last N rounds only", async () => {
    const { auth, token, clock, complete, ledger } = await setup({ budget: 250, budget_range: { type: "rounds", count: 2 } });
    await complete(100);
    clock.advance(10);
    await complete(100);
    clock.advance(10);
    await complete(150); // last two rounds: 100 + 150 = 250 >= 250
    clock.advance(1_000);
    expect((await fails(auth.authenticate(token, {}))).code).toBe("budget_exceeded");
    expect(ledger.reads.at(-1)).toEqual({ keyId: expect.any(String), lastRounds: 2 });
    // A cheap round pushes the 100 out of the window: 150 + 10 = 160 < 250.
    ledger.rows.push({ ...ledger.rows[0]!, at: clock.t, microUsd: 10 });
    clock.advance(1_000);
    await expect(auth.authenticate(token, {})).resolves.toBeTruthy();
  });

  it("counts the last N seconds only", async () => {
    const { auth, token, clock, complete, ledger } = await setup({ budget: 250, budget_range: { type: "duration", seconds: 60 } });
    await complete(100);
    clock.advance(30_000);
    await complete(200);
    expect((await fails(auth.authenticate(token, {}))).code).toBe("budget_exceeded");
    clock.advance(30_001); // the first request left the 60 s window: 200 < 250
    await expect(auth.authenticate(token, {})).resolves.toBeTruthy();
    expect(ledger.reads.at(-1)?.since).toBe(clock.t - 60_000);
  });

  it("session budgets are per key; account budgets add up every key of the issuer", async () => {
    const account = await accountFromSeed(seedOf(25));
    const ledger = new FakeLedger();
    const auth = make(account, { spend: ledger });
    const run = async (token: string, microUsd: number) => {
      const p = await auth.authenticate(token, {});
      ledger.rows.push({ keyId: p.keyId, accountId: p.accountId, at: Date.now(), microUsd });
      auth.addSpend(p, microUsd);
    };
    const s1 = await mintToken(account, { budget: 100, budget_scope: "session", id: "s1" });
    const s2 = await mintToken(account, { budget: 100, budget_scope: "session", id: "s2" });
    await run(s1, 100);
    expect((await fails(auth.authenticate(s1, {}))).code).toBe("budget_exceeded");
    await expect(auth.authenticate(s2, {})).resolves.toBeTruthy();

    const a1 = await mintToken(account, { budget: 150, budget_scope: "account", id: "a1" });
    const a2 = await mintToken(account, { budget: 150, budget_scope: "account", id: "a2" });
    await auth.authenticate(a1, {});
    await run(a2, 60); // a1's cached account spend sees a2's request through addSpend
    expect((await fails(auth.authenticate(a1, {}))).message).toContain("account spent 160 of 150");
  });

  it("answers 503 budget_unavailable (not a crash, not unchecked spend) while the spend source is down", async () => {
    const account = await accountFromSeed(seedOf(27));
    let down = true;
    const auth = make(account, { spend: { spend: async () => (down ? Promise.reject(new Error("ECONNREFUSED")) : { microUsd: 0, requests: 0 }) } });
    const token = await mintToken(account, { budget: 100, id: "down-1" });
    const err = await fails(auth.authenticate(token, {}));
    expect([err.status, err.kind, err.code]).toEqual([503, "overloaded", "budget_unavailable"]);
    down = false;
    await expect(auth.authenticate(token, {})).resolves.toMatchObject({ keyId: "down-1" });
  });

  it("refuses a budgeted token when no SpendSource is configured (fails closed)", async () => {
    const account = await accountFromSeed(seedOf(26));
    const auth = make(account);
    await expect(auth.authenticate(await mintToken(account, { budget: 1 }), {})).rejects.toThrow(/no SpendSource/);
    await expect(auth.authenticate(await mintToken(account, {}), {})).resolves.toBeTruthy();
  });
});

describe("admitCached (the router's path without a promise)", () => {
  it("admits only what authenticate would admit from memory; the rest is left to authenticate, which decides", async () => {
    const account = await accountFromSeed(seedOf(25));
    const clock = new Clock();
    const ledger = new FakeLedger();
    const auth = make(account, { spend: ledger, now: clock.now });
    const token = await mintToken(account, { id: "c1", models: ["openai:*"], exp: Math.floor(T0 / 1000) + 60 }, { now: T0 });
    expect(auth.admitCached(token, { model: "openai:gpt-4o" })).toBeUndefined(); // never verified
    const verified = await auth.authenticate(token, { model: "openai:gpt-4o" });
    expect(auth.admitCached(` ${token} `, { model: "openai:gpt-4o" })).toBe(verified);
    expect(auth.stats()).toMatchObject({ verifications: 1, cacheHits: 1 });

    // Each refusal is authenticate's to make, with its reason.
    expect(auth.admitCached(token, { model: "anthropic:claude" })).toBeUndefined();
    expect((await fails(auth.authenticate(token, { model: "anthropic:claude" }))).code).toBe("model_not_allowed");
    expect(auth.admitCached(token, { needAdmin: true })).toBeUndefined();
    expect(auth.admitCached(undefined, {})).toBeUndefined();
    auth.revoke("c1");
    expect(auth.admitCached(token, { model: "openai:gpt-4o" })).toBeUndefined();
    expect((await fails(auth.authenticate(token, {}))).code).toBe("key_revoked");

    const later = await mintToken(account, { id: "c2", exp: Math.floor(T0 / 1000) + 60 }, { now: T0 });
    await auth.authenticate(later, {});
    clock.advance(61_000);
    expect(auth.admitCached(later, {})).toBeUndefined();
    expect((await fails(auth.authenticate(later, {}))).code).toBe("token_expired");
  });

  it("admits a budgeted key only on a fresh spend read under its budget", async () => {
    const account = await accountFromSeed(seedOf(25));
    const clock = new Clock();
    const ledger = new FakeLedger();
    const auth = make(account, { spend: ledger, now: clock.now, spendTtlMs: 1_000 });
    const token = await mintToken(account, { id: "b9", budget: 200 }, { now: T0 });
    const p = await auth.authenticate(token, {});
    expect(auth.admitCached(token, {})).toBe(p);
    auth.addSpend(p, 200);
    expect(auth.admitCached(token, {})).toBeUndefined(); // at the budget
    expect((await fails(auth.authenticate(token, {}))).code).toBe("budget_exceeded");
    const fresh = await mintToken(account, { id: "b10", budget: 200 }, { now: T0 });
    await auth.authenticate(fresh, {});
    clock.advance(1_000);
    expect(auth.admitCached(fresh, {})).toBeUndefined(); // the read is stale: authenticate reads again
    ledger.rows.push({ keyId: "b10", accountId: p.accountId, at: clock.t, microUsd: 500 });
    expect((await fails(auth.authenticate(fresh, {}))).code).toBe("budget_exceeded");
  });

  it("waits for a revocation list that was never loaded", async () => {
    const account = await accountFromSeed(seedOf(25));
    const store = new FakeRevocations();
    store.failing = true;
    const auth = make(account, { revocations: store });
    const token = await mintToken(account, { id: "r1" });
    await auth.authenticate(token, {}); // the list is down: asked about this key alone
    expect(auth.admitCached(token, {})).toBeUndefined();
    store.failing = false;
    await auth.refreshRevocations();
    expect(auth.admitCached(token, {})).toBeTruthy();
  });
});

describe("error hygiene", () => {
  it("never echoes the credential", async () => {
    const account = await accountFromSeed(seedOf(27));
    const auth = make(account, { spend: new FakeLedger() });
    const tokens = [
      await mintToken(account, { scope: "api", models: ["a"], id: "h1" }),
      await mintToken(await accountFromSeed(seedOf(28)), {}),
      "garbage-token-value",
    ];
    const messages: string[] = [];
    for (const t of tokens) {
      for (const req of [{ needAdmin: true }, { model: "b" }]) {
        await auth.authenticate(t, req).catch((e: Error) => messages.push(e.message));
      }
    }
    expect(messages.length).toBe(6);
    for (const m of messages) for (const t of tokens) for (const seg of t.split(".")) expect(m).not.toContain(seg);
  });
});
