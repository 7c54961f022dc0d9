import { describe, expect, it } from "vitest";
import { AuthError, accountFromSeed, decodeToken, issuersOf, mintToken, verifyToken, type Account } from "../src/index.js";
import { BASE, SOLANA, decodeSegment, encodeSegment, handToken, rawSigner, seedOf, segments } from "./helpers.js";

const NOW = Date.UTC(2026, 0, 1);
const nowSec = Math.floor(NOW / 1000);

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error("expected a rejection");
}

describe("mint and verify", () => {
  it.each(["solana", "base"] as const)("round-trips every claim on %s", async (chain) => {
    const account = await accountFromSeed(seedOf(1));
    const claims = {
      scope: "admin" as const,
      exp: nowSec + 3600,
      models: ["openai:*", "anthropic:claude-*"],
      tools: ["github/*"],
      budget: 5_000_000,
      budget_scope: "account" as const,
      budget_range: { type: "rounds" as const, count: 10 },
      id: "key-1",
    };
    const token = await mintToken(account, claims, { chain, now: NOW });
    const got = await verifyToken(token, { trusted: issuersOf(account), now: NOW });
    const iss = chain === "solana" ? `${SOLANA}:${account.solanaAddress}` : `${BASE}:${account.evmAddress}`;
    expect(got).toEqual({ iss, chain: chain === "solana" ? SOLANA : BASE, iat: nowSec, ...claims });
    const header = decodeSegment(segments(token)[0]);
    expect(header).toEqual({ alg: chain === "solana" ? "SOL_EDDSA" : "EIP191K", typ: "JWT" });
    expect(Buffer.from(segments(token)[2], "base64url").length).toBe(chain === "solana" ? 64 : 65);
    expect(token).not.toContain("=");
  });

  it("omits absent optional fields instead of writing null, and defaults scope to api", async () => {
    const account = await accountFromSeed(seedOf(1));
    const token = await mintToken(account, {}, { now: NOW });
    const payload = decodeSegment(segments(token)[1]);
    expect(Object.keys(payload)).toEqual(["iss", "chain", "scope", "iat", "id"]);
    expect(payload.scope).toBe("api");
    expect(typeof payload.id).toBe("string");
    // A token without exp never expires.
    await expect(verifyToken(token, { trusted: issuersOf(account), now: NOW + 1e12 })).resolves.toMatchObject({ scope: "api" });
  });

  it("accepts trusted issuers given as bare addresses, EVM in any case", async () => {
    const account = await accountFromSeed(seedOf(1));
    const sol = await mintToken(account, {}, { chain: "solana" });
    const evm = await mintToken(account, {}, { chain: "base" });
    await expect(verifyToken(sol, { trusted: [account.solanaAddress] })).resolves.toBeTruthy();
    await expect(verifyToken(evm, { trusted: [account.evmAddress.toLowerCase()] })).resolves.toBeTruthy();
    // A Solana-address entry does not trust the same account's Base tokens.
    expect((await rejection(verifyToken(evm, { trusted: [account.solanaAddress] }))).code).toBe("untrusted_issuer");
  });

  it("refuses to mint claims a verifier would reject", async () => {
    const account = await accountFromSeed(seedOf(1));
    const err = await rejection(mintToken(account, { budget: 1.5 }));
    expect(err.code).toBe("bad_claims");
    expect(err.message).toContain("budget");
  });

  it("verifies tokens built by hand from the protocol rules (another implementation)", async () => {
    const signer = await rawSigner(seedOf(9));
    const sol = await handToken(
      signer,
      '{"alg":"SOL_EDDSA","typ":"JWT"}',
      `{"iss":"${SOLANA}:${signer.solanaAddress}","chain":"${SOLANA}","scope":"api","exp":${nowSec + 60},"models":["openai:*"],"budget":100,"budget_scope":"session","budget_range":{"type":"duration","seconds":3600},"id":"hand-1"}`,
      "SOL_EDDSA",
    );
    const evm = await handToken(
      signer,
      '{"alg":"EIP191K","typ":"JWT"}',
      `{"iss":"${BASE}:${signer.evmAddress}","chain":"${BASE}","scope":"admin","id":"hand-2"}`,
      "EIP191K",
    );
    const trusted = [`${SOLANA}:${signer.solanaAddress}`, `${BASE}:${signer.evmAddress}`];
    await expect(verifyToken(sol, { trusted, now: NOW })).resolves.toMatchObject({
      id: "hand-1",
      budget_range: { type: "duration", seconds: 3600 },
      models: ["openai:*"],
    });
    await expect(verifyToken(evm, { trusted, now: NOW })).resolves.toMatchObject({ id: "hand-2", scope: "admin" });
  });

  it("accepts an EIP191K signature whose v is 0/1 instead of 27/28", async () => {
    const account = await accountFromSeed(seedOf(2));
    const token = await mintToken(account, {}, { chain: "base" });
    const [h, p, s] = segments(token);
    const sig = Buffer.from(s, "base64url");
    expect([27, 28]).toContain(sig[64]);
    sig[64]! -= 27;
    await expect(verifyToken(`${h}.${p}.${sig.toString("base64url")}`, { trusted: issuersOf(account) })).resolves.toBeTruthy();
  });
});

describe("verifyToken rejects", () => {
  let account: Account;
  let trusted: string[];
  const setup = async () => {
    account = await accountFromSeed(seedOf(3));
    trusted = issuersOf(account);
  };

  it.each([
    ["two segments", (t: string) => t.split(".").slice(0, 2).join("."), "malformed_token"],
    ["four segments", (t: string) => `${t}.AAAA`, "malformed_token"],
    ["padding in a segment", (t: string) => t.replace(".", "=."), "malformed_token"],
    ["standard base64 characters", (t: string) => `${t.split(".")[0]}.${t.split(".")[1]}+/.${t.split(".")[2]}`, "malformed_token"],
    ["a header that is not JSON", (t: string) => `${Buffer.from("not json").toString("base64url")}.${t.split(".").slice(1).join(".")}`, "malformed_token"],
    ["an empty credential", () => "", "malformed_token"],
  ])("%s", async (_name, mutate, code) => {
    await setup();
    const token = await mintToken(account, {});
    const err = await rejection(verifyToken(mutate(token), { trusted }));
    expect(err.code).toBe(code);
    expect(err.status).toBe(401);
    expect(err.kind).toBe("authentication");
  });

  it.each(["solana", "base"] as const)("a tampered payload (%s)", async (chain) => {
    await setup();
    const [h, p, s] = segments(await mintToken(account, { scope: "api" }, { chain }));
    const payload = decodeSegment(p);
    payload.scope = "admin";
    const err = await rejection(verifyToken(`${h}.${encodeSegment(payload)}.${s}`, { trusted }));
    expect(err.code).toBe("bad_signature");
  });

  it("a tampered header (extra field, same alg)", async () => {
    await setup();
    const [, p, s] = segments(await mintToken(account, {}));
    const err = await rejection(verifyToken(`${encodeSegment({ alg: "SOL_EDDSA", typ: "JWT", kid: "x" })}.${p}.${s}`, { trusted }));
    expect(err.code).toBe("bad_signature");
  });

  it("a signature of the wrong length", async () => {
    await setup();
    const [h, p] = segments(await mintToken(account, {}));
    const err = await rejection(verifyToken(`${h}.${p}.${Buffer.alloc(63).toString("base64url")}`, { trusted }));
    expect(err.code).toBe("bad_signature");
  });

  it.each(["HS256", "none", "ES256K", "EdDSA", 42])("unknown alg %s", async (alg) => {
    await setup();
    const signer = await rawSigner(seedOf(3));
    const token = await handToken(signer, { alg, typ: "JWT" }, { iss: `${SOLANA}:${signer.solanaAddress}`, chain: SOLANA, scope: "api", id: "k" });
    const err = await rejection(verifyToken(token, { trusted }));
    expect(err.code).toBe("unsupported_alg");
  });

  it("a bad CAIP-10 issuer", async () => {
    await setup();
    const signer = await rawSigner(seedOf(3));
    for (const iss of [
      signer.solanaAddress,
      `solana:mainnet:${signer.solanaAddress}`,
      `${SOLANA}:not-base58-0OIl`,
      `eip155:1:${signer.evmAddress}`,
      `${BASE}:0x1234`,
    ]) {
      const token = await handToken(signer, { alg: "SOL_EDDSA", typ: "JWT" }, { iss, chain: SOLANA, scope: "api", id: "k" });
      expect((await rejection(verifyToken(token, { trusted }))).code).toBe("bad_issuer");
    }
  });

  it("a chain that is not the issuer's", async () => {
    await setup();
    const signer = await rawSigner(seedOf(3));
    const token = await handToken(signer, { alg: "SOL_EDDSA", typ: "JWT" }, { iss: `${SOLANA}:${signer.solanaAddress}`, chain: BASE, scope: "api", id: "k" });
    expect((await rejection(verifyToken(token, { trusted }))).code).toBe("chain_mismatch");
  });

  it.each([
    ["EIP191K for a solana issuer", "EIP191K", "solana"],
    ["SOL_EDDSA for an eip155 issuer", "SOL_EDDSA", "eip155"],
  ] as const)("an alg that does not match the namespace: %s", async (_n, alg, ns) => {
    await setup();
    const signer = await rawSigner(seedOf(3));
    const claims = ns === "solana" ? { iss: `${SOLANA}:${signer.solanaAddress}`, chain: SOLANA } : { iss: `${BASE}:${signer.evmAddress}`, chain: BASE };
    const token = await handToken(signer, { alg, typ: "JWT" }, { ...claims, scope: "api", id: "k" }, alg);
    expect((await rejection(verifyToken(token, { trusted }))).code).toBe("alg_mismatch");
  });

  it("a signature by another key over an issuer it does not own", async () => {
    await setup();
    const other = await rawSigner(seedOf(4));
    for (const alg of ["SOL_EDDSA", "EIP191K"] as const) {
      const claims = alg === "SOL_EDDSA" ? { iss: `${SOLANA}:${account.solanaAddress}`, chain: SOLANA } : { iss: `${BASE}:${account.evmAddress}`, chain: BASE };
      const token = await handToken(other, { alg, typ: "JWT" }, { ...claims, scope: "admin", id: "forged" }, alg);
      expect((await rejection(verifyToken(token, { trusted }))).code).toBe("bad_signature");
    }
  });

  it("an expired token: valid while now < exp, not at exp", async () => {
    await setup();
    const token = await mintToken(account, { exp: nowSec + 10 });
    await expect(verifyToken(token, { trusted, now: (nowSec + 9) * 1000 + 999 })).resolves.toBeTruthy();
    const err = await rejection(verifyToken(token, { trusted, now: (nowSec + 10) * 1000 }));
    expect(err.code).toBe("token_expired");
  });

  it("a foreign issuer", async () => {
    await setup();
    const stranger = await accountFromSeed(seedOf(5));
    const err = await rejection(verifyToken(await mintToken(stranger, {}), { trusted }));
    expect(err.code).toBe("untrusted_issuer");
    expect(err.message).toContain(stranger.prefix);
  });

  it("a revoked key", async () => {
    await setup();
    const token = await mintToken(account, { id: "gone" });
    const revocations = { isRevoked: async (id: string) => id === "gone" };
    const err = await rejection(verifyToken(token, { trusted, revocations }));
    expect(err.code).toBe("key_revoked");
    await expect(verifyToken(await mintToken(account, { id: "kept" }), { trusted, revocations })).resolves.toBeTruthy();
  });

  it.each([
    ["scope", { scope: "root" }],
    ["budget", { budget: -1 }],
    ["budget_scope", { budget_scope: "team" }],
    ["budget_range", { budget_range: { type: "rounds", count: 0 } }],
    ["models", { models: "openai:*" }],
    ["id", { id: "" }],
    ["exp", { exp: "tomorrow" }],
    ["budget null", { budget: null }],
  ])("a payload with a bad %s", async (_n, extra) => {
    await setup();
    const signer = await rawSigner(seedOf(3));
    const token = await handToken(
      signer,
      { alg: "SOL_EDDSA", typ: "JWT" },
      { iss: `${SOLANA}:${signer.solanaAddress}`, chain: SOLANA, scope: "api", id: "k", ...extra },
    );
    expect((await rejection(verifyToken(token, { trusted }))).code).toBe("malformed_token");
  });
});

describe("error hygiene", () => {
  it("never puts the token, its segments or key material in an error message", async () => {
    const seed = seedOf(6);
    const account = await accountFromSeed(seed);
    const trusted = issuersOf(account);
    const good = await mintToken(account, { exp: nowSec + 1, id: "k6" }, { chain: "base" });
    const [h, p, s] = segments(good);
    const payload = decodeSegment(p);
    const variants = [
      `${h}.${p}`,
      `${h}.${encodeSegment({ ...payload, scope: "admin" })}.${s}`,
      `${encodeSegment({ alg: "XX" })}.${p}.${s}`,
      `${h}.${encodeSegment({ ...payload, chain: SOLANA })}.${s}`,
      `${h}.${p}.${s.slice(0, -4)}`,
      good,
    ];
    const messages: string[] = [];
    for (const token of variants) {
      try {
        await verifyToken(token, { trusted: token === good ? [] : trusted, now: (nowSec + 5) * 1000 });
      } catch (error) {
        messages.push((error as Error).message, String((error as Error).stack));
      }
    }
    expect(messages.length).toBe(variants.length * 2);
    const secrets = [good, h, p, s, Buffer.from(seed).toString("hex"), Buffer.from(seed).toString("base64")];
    for (const m of messages) for (const secret of secrets) expect(m).not.toContain(secret);
  });

  it("decodeToken reads claims without a signature check", async () => {
    const account = await accountFromSeed(seedOf(7));
    const [h, p] = segments(await mintToken(account, { id: "d1" }));
    expect(decodeToken(`${h}.${p}.AAAA`).id).toBe("d1");
  });
});

describe("messages about token content", () => {
  it("cut long token-supplied values short", async () => {
    const signer = await rawSigner(seedOf(8));
    const alg = "X".repeat(5000);
    const token = await handToken(signer, { alg, typ: "JWT" }, { iss: `${SOLANA}:${signer.solanaAddress}`, chain: SOLANA, scope: "api", id: "k" });
    const err = (await verifyToken(token, { trusted: [] }).catch((e: unknown) => e)) as AuthError;
    expect(err.code).toBe("unsupported_alg");
    expect(err.message.length).toBeLessThan(200);
  });
});
