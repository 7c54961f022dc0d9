/**
 * The server-side gate for each request: credential -> verified claims (LRU-cached) -> revocation
 * -> scope -> model allowlist -> budget. Reads from the store through two small interfaces the host
 * adapts, so this package does not depend on @bitrouter/store.
 *
 * Staleness, by design:
 * - Revocation is instant on the instance that calls `revoke(keyId)`, and reaches other instances
 *   within `revocationPollMs` (each polls `listRevocations(since)`).
 * - Spend is read from the SpendSource at most once per `spendTtlMs` per key/account and budget
 *   window; completed requests are added locally (`addSpend`) in between. The SpendSource only sees
 *   what the ledger has flushed, so a budget can be overshot by the requests in flight plus those
 *   completed on other instances within the TTL and the ledger's flush interval.
 */
import type { Principal } from "@bitrouter/core";
import { hash as digest } from "node:crypto";
import { parseCaip10 } from "./caip.js";
import { AuthError, unauthenticated } from "./errors.js";
import { matchesModel } from "./parse.js";
import { type BudgetRange, type Scope, type TokenClaims, TrustedIssuers, verifyToken } from "./token.js";

export interface Revocation {
  keyId: string;
  /** Epoch milliseconds. */
  revokedAt: number;
}

/** Where revocations live (the store). `listRevocations(since)` returns those with revokedAt >= since. */
export interface RevocationSource {
  isRevoked(keyId: string): Promise<boolean>;
  listRevocations(since?: number): Promise<Revocation[]>;
}

export interface SpendQuery {
  keyId?: string;
  accountId?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Only the most recent N requests. */
  lastRounds?: number;
}

/** Where spend is aggregated (the store's request ledger). */
export interface SpendSource {
  spend(query: SpendQuery): Promise<{ microUsd: number; requests: number }>;
}

/**
 * A caller whose API key was verified: the shared Principal with every field known, and the token's
 * claims. `accountId` is the issuer's CAIP-10 id (EVM addresses lower-cased).
 */
export interface VerifiedPrincipal extends Principal {
  keyId: string;
  accountId: string;
  scope: Scope;
  claims: TokenClaims;
}

export interface AuthenticatorOptions {
  /** Trusted accounts: CAIP-10 ids or bare Solana / EVM addresses. */
  trusted: Iterable<string>;
  revocations?: RevocationSource;
  spend?: SpendSource;
  /** Verified tokens kept in memory (LRU); also bounds the spend cache. Default 10,000. */
  cacheSize?: number;
  /** How often to poll the RevocationSource. Default 5,000 ms. */
  revocationPollMs?: number;
  /** How long a spend read from the SpendSource is trusted. Default 1,000 ms. */
  spendTtlMs?: number;
  /** Clock in epoch milliseconds (tests). Default Date.now. */
  now?: () => number;
  /** Background failures (revocation polling). Messages never contain tokens. */
  onError?: (error: unknown, context: string) => void;
}

export interface AuthenticatorStats {
  cacheHits: number;
  cacheMisses: number;
  /** Full verifications (signature checks) performed. */
  verifications: number;
  cachedTokens: number;
  revokedKeys: number;
  /** Epoch ms of the last successful revocation poll, if any. */
  revocationsLoadedAt?: number;
  revocationPollErrors: number;
  spendReads: number;
}

export interface Authenticator {
  /** Verifies the credential and checks it may call `model` (and admin endpoints when needAdmin). */
  authenticate(credential: string | undefined, request: { model?: string; needAdmin?: boolean }): Promise<VerifiedPrincipal>;
  /**
   * The principal at once when authenticate would admit the request from memory alone (a token
   * verified before, revocations loaded, a fresh spend read under its budget); undefined when it
   * would have to wait or refuse: then call authenticate, which decides. A caller that awaits
   * nothing on the common path (the router's hook) saves a turn of the microtask queue per await.
   */
  admitCached(credential: string | undefined, request: { model?: string; needAdmin?: boolean }): VerifiedPrincipal | undefined;
  /** Marks a key revoked on this instance at once (the host also records it in the store). */
  revoke(keyId: string): void;
  /** Counts a completed request's cost against the caller's cached spend. */
  addSpend(principal: Principal, microUsd: number): void;
  /** Polls the RevocationSource now (also runs every revocationPollMs). */
  refreshRevocations(): Promise<void>;
  stats(): AuthenticatorStats;
  /** Stops the revocation poll timer. */
  close(): void;
}

interface CachedToken {
  principal: VerifiedPrincipal;
  /** Epoch ms at which the token expires, or Infinity. */
  expiresAt: number;
  /** The token before its signature (`header.payload`: claims, not a credential), compared whole on a hit. */
  signed: string;
}

/**
 * The token cache is keyed by the digest of the signature segment alone: the signature is what
 * makes a token a credential, so the cache holds none, and hashing its ~90 characters rather than
 * the whole token (~600) was most of what admitting a known token cost. A hit still compares the
 * signed part whole, so only the very token that was verified is admitted.
 */
function cacheKey(credential: string, dot: number): string {
  return digest("sha256", dot < 0 ? credential : credential.slice(dot + 1), "base64");
}

/**
 * Where a token's signature segment starts: the index of its second "." (-1 without one). Two
 * native searches, where lastIndexOf goes through the runtime; a token with more segments fails
 * verification, so which dot is taken only has to be the same for the same string.
 */
function signatureDot(credential: string): number {
  const first = credential.indexOf(".");
  return first < 0 ? -1 : credential.indexOf(".", first + 1);
}

/** Whether `entry` was cached for exactly this token (`dot`: see signatureDot). */
function sameToken(entry: CachedToken, credential: string, dot: number): boolean {
  return entry.signed.length === dot && credential.slice(0, dot) === entry.signed;
}

/** A copy of the token's signed part that does not keep the whole token alive (a slice would). */
function signedPart(credential: string, dot: number): string {
  return Buffer.from(credential.slice(0, dot), "latin1").toString("latin1");
}

interface SpendEntry {
  microUsd: number;
  fetchedAt: number;
  pending?: Promise<number>;
}

// Poll "since the newest revocation seen, minus a margin": clock skew between instances and
// transactions committing out of order must not hide a revocation.
const REVOCATION_MARGIN_MS = 60_000;

/**
 * A Map used as an LRU: a get moves the entry to the end; inserting past the limit drops the oldest.
 * A get of the entry already at the end (one caller sending request after request) leaves the Map
 * alone: each delete-and-set leaves a hole that the Map's periodic rehash then compacts.
 */
class Lru<V> {
  private readonly map = new Map<string, V>();
  /** The key at the end of `map`, if known. */
  private newest: string | undefined;
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined && key !== this.newest) {
      this.map.delete(key);
      this.map.set(key, v);
      this.newest = key;
    }
    return v;
  }
  peek(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    this.newest = key;
    if (this.map.size > this.limit) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      if (oldest === key) this.newest = undefined;
    }
  }
  delete(key: string): void {
    this.map.delete(key);
    if (key === this.newest) this.newest = undefined;
  }
  get size(): number {
    return this.map.size;
  }
}

/** Whose spend a principal's budget counts: its account's or its key's (the spend cache's key). */
function budgetSubject(p: VerifiedPrincipal): string {
  return p.claims.budget_scope === "account" ? `a:${p.accountId}` : `k:${p.keyId}`;
}

function rangeKey(range: BudgetRange | undefined): string {
  if (!range) return "all";
  return range.type === "rounds" ? `r${range.count}` : `d${range.seconds}`;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const trusted = new TrustedIssuers(options.trusted);
  if (trusted.size === 0) throw new Error("createAuthenticator needs at least one trusted account (open mode does not use it)");
  const cacheSize = options.cacheSize ?? 10_000;
  const pollMs = options.revocationPollMs ?? 5_000;
  const spendTtlMs = options.spendTtlMs ?? 1_000;
  const now = options.now ?? Date.now;
  const source = options.revocations;
  const spendSource = options.spend;

  const tokens = new Lru<CachedToken>(cacheSize);
  // subject ("k:<keyId>" | "a:<accountId>") -> budget window -> spend
  const spendCache = new Lru<Map<string, SpendEntry>>(cacheSize);
  const revoked = new Set<string>();
  let newestRevocation: number | undefined;
  let revocationsLoadedAt: number | undefined;
  let polling: Promise<void> | undefined;
  const counters = { cacheHits: 0, cacheMisses: 0, verifications: 0, revocationPollErrors: 0, spendReads: 0 };

  async function poll(): Promise<void> {
    if (!source) return;
    const since = newestRevocation === undefined ? undefined : newestRevocation - REVOCATION_MARGIN_MS;
    const list = await source.listRevocations(since);
    for (const r of list) {
      revoked.add(r.keyId);
      if (newestRevocation === undefined || r.revokedAt > newestRevocation) newestRevocation = r.revokedAt;
    }
    revocationsLoadedAt = now();
  }

  function refreshRevocations(): Promise<void> {
    // Single flight: concurrent callers share one poll.
    polling ??= poll().finally(() => {
      polling = undefined;
    });
    return polling;
  }

  function backgroundPoll(): void {
    refreshRevocations().catch((error: unknown) => {
      counters.revocationPollErrors++;
      options.onError?.(error, "revocation poll");
    });
  }

  let timer: ReturnType<typeof setInterval> | undefined;
  if (source) {
    backgroundPoll();
    timer = setInterval(backgroundPoll, pollMs);
    timer.unref();
  }

  async function isRevoked(keyId: string): Promise<boolean> {
    if (revoked.has(keyId)) return true;
    if (!source || revocationsLoadedAt !== undefined) return false;
    // Never loaded yet (startup, or the store was down): try once more, else ask about this key.
    try {
      await refreshRevocations();
      return revoked.has(keyId);
    } catch {
      try {
        return await source.isRevoked(keyId);
      } catch {
        throw new AuthError(
          "overloaded",
          "revocations_unavailable",
          `cannot check whether key ${keyId} is revoked: the database is unreachable; try again shortly`,
        );
      }
    }
  }

  async function principalFor(credential: string): Promise<VerifiedPrincipal> {
    const dot = signatureDot(credential);
    const key = cacheKey(credential, dot);
    const cached = tokens.get(key);
    const t = now();
    if (cached && sameToken(cached, credential, dot)) {
      if (t < cached.expiresAt) {
        counters.cacheHits++;
        return cached.principal;
      }
      tokens.delete(key);
      throw unauthenticated("token_expired", `token ${cached.principal.keyId} expired at ${new Date(cached.expiresAt).toISOString()}`);
    }
    counters.cacheMisses++;
    counters.verifications++;
    const claims = await verifyToken(credential, { trusted, now: t });
    const issuer = parseCaip10(claims.iss);
    const principal: VerifiedPrincipal = { keyId: claims.id, accountId: issuer ? issuer.canonical : claims.iss, scope: claims.scope, claims };
    // A verified token has three segments, so `dot` is its signature's start.
    tokens.set(key, { principal, expiresAt: claims.exp === undefined ? Infinity : claims.exp * 1000, signed: signedPart(credential, dot) });
    return principal;
  }

  function spendEntries(subject: string): Map<string, SpendEntry> {
    let entries = spendCache.get(subject);
    if (!entries) {
      entries = new Map();
      spendCache.set(subject, entries);
    }
    return entries;
  }

  async function currentSpend(p: VerifiedPrincipal): Promise<number> {
    if (!spendSource) {
      throw new Error(`key ${p.keyId} has a budget but the authenticator has no SpendSource to enforce it`);
    }
    const c = p.claims;
    const perAccount = c.budget_scope === "account";
    const range = rangeKey(c.budget_range);
    const entries = spendEntries(budgetSubject(p));
    const t = now();
    const entry = entries.get(range);
    if (entry && t - entry.fetchedAt < spendTtlMs) return entry.microUsd;
    if (entry?.pending) return entry.pending;
    const query: SpendQuery = perAccount ? { accountId: p.accountId } : { keyId: p.keyId };
    if (c.budget_range?.type === "rounds") query.lastRounds = c.budget_range.count;
    if (c.budget_range?.type === "duration") query.since = t - c.budget_range.seconds * 1000;
    counters.spendReads++;
    // An unreachable ledger is not the caller's fault, nor a reason to let the key spend unchecked.
    const pending = spendSource.spend(query).then(
      (s) => s.microUsd,
      () => {
        throw new AuthError(
          "overloaded",
          "budget_unavailable",
          `cannot check the budget of key ${p.keyId} right now: the spend ledger's database is unreachable; try again shortly`,
        );
      },
    );
    const fresh: SpendEntry = { microUsd: entry?.microUsd ?? 0, fetchedAt: entry?.fetchedAt ?? -Infinity, pending };
    entries.set(range, fresh);
    try {
      const read = await pending;
      // All-time spend never decreases: keep local increments the ledger has not flushed yet.
      // (A windowed spend can legitimately drop, so there the read wins.)
      fresh.microUsd = c.budget_range ? read : Math.max(read, fresh.microUsd);
      fresh.fetchedAt = t;
      return fresh.microUsd;
    } finally {
      delete fresh.pending;
    }
  }

  function admitCached(credential: string | undefined, request: { model?: string; needAdmin?: boolean }): VerifiedPrincipal | undefined {
    if (credential === undefined) return undefined;
    const token = credential.trim();
    const dot = signatureDot(token);
    const cached = tokens.get(cacheKey(token, dot));
    if (!cached || !sameToken(cached, token, dot) || now() >= cached.expiresAt) return undefined;
    const principal = cached.principal;
    const c = principal.claims;
    if (revoked.has(principal.keyId) || (source && revocationsLoadedAt === undefined)) return undefined;
    if (request.needAdmin && principal.scope !== "admin") return undefined;
    if (request.model !== undefined && !matchesModel(c.models, request.model)) return undefined;
    if (c.budget !== undefined) {
      const entry = spendCache.peek(budgetSubject(principal))?.get(rangeKey(c.budget_range));
      if (!entry || now() - entry.fetchedAt >= spendTtlMs || entry.microUsd >= c.budget) return undefined;
    }
    counters.cacheHits++;
    return principal;
  }

  return {
    admitCached,

    async authenticate(credential, request) {
      if (credential === undefined || credential.trim() === "") {
        throw unauthenticated("missing_credential", "missing API key: send a BitRouter token as a Bearer token or API key header");
      }
      const principal = await principalFor(credential.trim());
      const c = principal.claims;
      if (await isRevoked(principal.keyId)) throw unauthenticated("key_revoked", `key ${principal.keyId} has been revoked`);
      if (request.needAdmin && principal.scope !== "admin") {
        throw new AuthError("permission", "insufficient_scope", `key ${principal.keyId} has scope "${principal.scope}"; this endpoint needs "admin"`);
      }
      if (request.model !== undefined && !matchesModel(c.models, request.model)) {
        throw new AuthError(
          "permission",
          "model_not_allowed",
          `key ${principal.keyId} may not use model "${request.model}" (allowed: ${c.models?.join(", ")})`,
          "model",
        );
      }
      if (c.budget !== undefined) {
        const spent = await currentSpend(principal);
        if (spent >= c.budget) {
          const window = c.budget_range
            ? c.budget_range.type === "rounds"
              ? ` over the last ${c.budget_range.count} requests`
              : ` over the last ${c.budget_range.seconds}s`
            : "";
          const who = c.budget_scope === "account" ? "account" : `key ${principal.keyId}`;
          throw new AuthError("rate_limit", "budget_exceeded", `budget exceeded: ${who} spent ${spent} of ${c.budget} micro-USD${window}`);
        }
      }
      return principal;
    },

    revoke(keyId) {
      revoked.add(keyId);
    },

    addSpend(principal, microUsd) {
      if (!Number.isFinite(microUsd) || microUsd <= 0) return;
      for (const subject of [principal.keyId && `k:${principal.keyId}`, principal.accountId && `a:${principal.accountId}`]) {
        if (!subject) continue;
        const entries = spendCache.peek(subject);
        if (!entries) continue;
        for (const entry of entries.values()) entry.microUsd += microUsd;
      }
    },

    refreshRevocations,

    stats() {
      const s: AuthenticatorStats = { ...counters, cachedTokens: tokens.size, revokedKeys: revoked.size };
      if (revocationsLoadedAt !== undefined) s.revocationsLoadedAt = revocationsLoadedAt;
      return s;
    },

    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
