/**
 * BitRouter's open JWT protocol: three base64url segments; header `{"alg":"SOL_EDDSA","typ":"JWT"}`
 * (Ed25519 over the ASCII bytes `header.payload`, 64-byte signature, key = the Solana address in
 * `iss`) or `{"alg":"EIP191K","typ":"JWT"}` (EIP-191 personal-message secp256k1 signature over the
 * same bytes, 65 bytes r||s||v, checked by recovering the EVM address in `iss`).
 * jose does the base64url and JSON decoding; ./crypto.ts signs and checks the signatures.
 */
import { randomUUID } from "node:crypto";
import { base64url, decodeJwt, decodeProtectedHeader } from "jose";
import type { Account } from "./accounts.js";
import { type Alg, BASE_CHAIN, CHAINS, type ChainName, type Issuer, SOLANA_CHAIN, canonicalIssuer, parseCaip10, shortIssuer } from "./caip.js";
import { eip191Recover, eip191Sign, ed25519Sign, ed25519Verify } from "./crypto.js";
import { AuthError, invalidInput, unauthenticated } from "./errors.js";

export type Scope = "api" | "admin";
export type BudgetScope = "session" | "account";
export type BudgetRange = { type: "rounds"; count: number } | { type: "duration"; seconds: number };

/** The payload of a BitRouter token, field names as on the wire. Absent fields are omitted. */
export interface TokenClaims {
  /** CAIP-10 id of the signer. */
  iss: string;
  /** CAIP-2 part of `iss`. */
  chain: string;
  scope: Scope;
  /** Epoch seconds. */
  iat?: number;
  /** Epoch seconds; the token is valid while now < exp. */
  exp?: number;
  models?: string[];
  tools?: string[];
  /** Integer micro-USD. */
  budget?: number;
  budget_scope?: BudgetScope;
  budget_range?: BudgetRange;
  /** Key id: what revocation and listings refer to. */
  id: string;
}

/** What the caller chooses when minting; `iss` and `chain` come from the account and chain. */
export interface MintClaims {
  scope?: Scope;
  /** Epoch seconds; default now. */
  iat?: number;
  /** Epoch seconds; omit for a token that never expires. */
  exp?: number;
  models?: string[];
  tools?: string[];
  budget?: number;
  budget_scope?: BudgetScope;
  budget_range?: BudgetRange;
  /** Default: a random UUID. */
  id?: string;
}

/** Anything that can say whether a key id is revoked (the store, an in-memory set, …). */
export interface RevocationCheck {
  isRevoked(keyId: string): boolean | Promise<boolean>;
}

export interface VerifyOptions {
  /** Trusted issuers: CAIP-10 ids, or bare Solana / EVM addresses. */
  trusted: Iterable<string> | TrustedIssuers;
  /** Epoch milliseconds; default Date.now(). */
  now?: number;
  revocations?: RevocationCheck;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ALGS: Record<string, { namespace: Issuer["namespace"]; sigBytes: number }> = {
  SOL_EDDSA: { namespace: "solana", sigBytes: 64 },
  EIP191K: { namespace: "eip155", sigBytes: 65 },
};

/** A pre-normalised trusted-issuer set: build it once, not per verification. */
export class TrustedIssuers {
  private readonly set: Set<string>;
  constructor(entries: Iterable<string>) {
    this.set = new Set([...entries].map(canonicalIssuer));
  }
  has(issuer: Issuer): boolean {
    return this.set.has(issuer.canonical);
  }
  get size(): number {
    return this.set.size;
  }
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** Builds the payload in wire order, leaving absent fields out (never null). */
function payloadOf(iss: string, chain: string, c: MintClaims, now: number): Record<string, unknown> {
  const out: Record<string, unknown> = { iss, chain, scope: c.scope ?? "api", iat: c.iat ?? Math.floor(now / 1000) };
  if (c.exp !== undefined) out.exp = c.exp;
  if (c.models !== undefined) out.models = [...c.models];
  if (c.tools !== undefined) out.tools = [...c.tools];
  if (c.budget !== undefined) out.budget = c.budget;
  if (c.budget_scope !== undefined) out.budget_scope = c.budget_scope;
  if (c.budget_range !== undefined) out.budget_range = { ...c.budget_range };
  out.id = c.id ?? randomUUID();
  return out;
}

/** Signs a token with the account's key on the chosen chain (default solana). */
export async function mintToken(account: Account, claims: MintClaims = {}, options: { chain?: ChainName; now?: number } = {}): Promise<string> {
  const chainName = options.chain ?? "solana";
  const chain = CHAINS[chainName];
  if (!chain) throw invalidInput("bad_chain", `chain must be "solana" or "base", got "${String(chainName)}"`, "chain");
  const address = chainName === "solana" ? account.solanaAddress : account.evmAddress;
  const payload = payloadOf(`${chain.caip2}:${address}`, chain.caip2, claims, options.now ?? Date.now());
  // Validate exactly as a verifier would, so the CLI cannot mint a token the server rejects.
  try {
    validateClaims(payload);
  } catch (error) {
    throw error instanceof AuthError ? invalidInput("bad_claims", error.message.replace("malformed token: ", "cannot mint: ")) : error;
  }
  const signingInput = `${encodeJson({ alg: chain.alg, typ: "JWT" })}.${encodeJson(payload)}`;
  const data = new TextEncoder().encode(signingInput);
  let signature: Uint8Array;
  if (chain.alg === "SOL_EDDSA") {
    signature = await ed25519Sign(account.solana.privateKey, data);
  } else {
    signature = eip191Sign(Buffer.from(account.evmPrivateKey.slice(2), "hex"), data);
  }
  return `${signingInput}.${base64url.encode(signature)}`;
}

/** A token-supplied value for a message: JSON, cut short so a hostile token cannot bloat logs. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function malformed(what: string): AuthError {
  return unauthenticated("malformed_token", `malformed token: ${what}`);
}

function isPatternList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((p) => typeof p === "string" && p !== "");
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}

/** Checks the payload's fields and types (not its signature or validity period). */
function validateClaims(p: Record<string, unknown>): TokenClaims {
  if (typeof p.iss !== "string") throw malformed("iss is missing");
  if (typeof p.chain !== "string") throw malformed("chain is missing");
  if (p.scope !== "api" && p.scope !== "admin") throw malformed(`scope must be "api" or "admin", got ${show(p.scope)}`);
  if (typeof p.id !== "string" || p.id === "" || p.id.length > 200) throw malformed("id must be a non-empty string");
  for (const f of ["iat", "exp"] as const) {
    if (p[f] !== undefined && (typeof p[f] !== "number" || !Number.isFinite(p[f]))) throw malformed(`${f} must be a number of seconds`);
  }
  for (const f of ["models", "tools"] as const) {
    if (p[f] !== undefined && !isPatternList(p[f])) throw malformed(`${f} must be a list of non-empty patterns`);
  }
  if (p.budget !== undefined && !(typeof p.budget === "number" && Number.isSafeInteger(p.budget) && p.budget >= 0)) {
    throw malformed("budget must be a non-negative integer of micro-USD");
  }
  if (p.budget_scope !== undefined && p.budget_scope !== "session" && p.budget_scope !== "account") {
    throw malformed(`budget_scope must be "session" or "account", got ${show(p.budget_scope)}`);
  }
  if (p.budget_range !== undefined) {
    const r = p.budget_range as Record<string, unknown> | null;
    const ok = typeof r === "object" && r !== null && ((r.type === "rounds" && isPositiveInt(r.count)) || (r.type === "duration" && isPositiveInt(r.seconds)));
    if (!ok) throw malformed('budget_range must be {"type":"rounds","count":N} or {"type":"duration","seconds":N}');
  }
  return p as unknown as TokenClaims;
}

/** Decodes a token's claims WITHOUT checking its signature (for listings and `keys --show`). */
export function decodeToken(token: string): TokenClaims {
  const parts = token.split(".");
  if (parts.length !== 3) throw malformed(`expected 3 segments, got ${parts.length}`);
  if (!parts.every((s) => SEGMENT.test(s))) throw malformed("a segment is not unpadded base64url");
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(token);
  } catch {
    throw malformed("the payload is not a base64url JSON object");
  }
  return validateClaims(payload);
}

async function signatureValid(alg: Alg, issuer: Issuer, signingInput: string, signature: Uint8Array): Promise<boolean> {
  const data = new TextEncoder().encode(signingInput);
  try {
    if (alg === "SOL_EDDSA") return ed25519Verify(issuer.address, data, signature);
    return eip191Recover(data, signature).toLowerCase() === issuer.address.toLowerCase();
  } catch {
    // An invalid curve point or recovery id is a bad signature, not a server error.
    return false;
  }
}

/**
 * Verifies a token: structure, header, issuer, chain, algorithm, trust, signature, expiry and
 * (when a revocation check is given) revocation, in that order. Returns the claims or throws an
 * AuthError (401) whose `code` names the rule that failed.
 */
export async function verifyToken(token: string, options: VerifyOptions): Promise<TokenClaims> {
  const parts = token.split(".");
  const [headerPart, payloadPart, signaturePart] = parts;
  if (parts.length !== 3 || headerPart === undefined || payloadPart === undefined || signaturePart === undefined) {
    throw malformed(`expected 3 segments, got ${parts.length}`);
  }
  if (!parts.every((s) => SEGMENT.test(s))) throw malformed("a segment is not unpadded base64url");
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    throw malformed("the header is not a base64url JSON object");
  }
  if (header.typ !== undefined && header.typ !== "JWT") throw malformed(`typ must be "JWT", got ${show(header.typ)}`);
  const alg = header.alg;
  const algInfo = typeof alg === "string" && Object.hasOwn(ALGS, alg) ? ALGS[alg] : undefined;
  if (!algInfo) throw unauthenticated("unsupported_alg", `unsupported alg ${show(alg)}: expected "SOL_EDDSA" or "EIP191K"`);

  const claims = decodeToken(token);
  const issuer = parseCaip10(claims.iss);
  if (!issuer) {
    throw unauthenticated("bad_issuer", `iss is not a CAIP-10 id of a supported chain (${SOLANA_CHAIN}:<address> or ${BASE_CHAIN}:<0x address>)`);
  }
  if (claims.chain !== issuer.chain) throw unauthenticated("chain_mismatch", `chain ${show(claims.chain)} is not the chain of iss (${issuer.chain})`);
  if (algInfo.namespace !== issuer.namespace) {
    throw unauthenticated("alg_mismatch", `alg ${alg as string} cannot sign for a ${issuer.namespace} issuer`);
  }
  // Trust before the signature: a token from a foreign issuer costs no signature check.
  const trusted = options.trusted instanceof TrustedIssuers ? options.trusted : new TrustedIssuers(options.trusted);
  if (!trusted.has(issuer)) throw unauthenticated("untrusted_issuer", `issuer ${shortIssuer(issuer)} is not a trusted account`);
  let signature: Uint8Array;
  try {
    signature = base64url.decode(signaturePart);
  } catch {
    throw malformed("the signature is not base64url");
  }
  if (signature.length !== algInfo.sigBytes) {
    throw unauthenticated("bad_signature", `bad signature: ${alg as string} signatures are ${algInfo.sigBytes} bytes, got ${signature.length}`);
  }
  if (!(await signatureValid(alg as Alg, issuer, `${headerPart}.${payloadPart}`, signature))) {
    throw unauthenticated("bad_signature", `bad signature for issuer ${shortIssuer(issuer)}`);
  }
  const now = options.now ?? Date.now();
  if (claims.exp !== undefined && !(now < claims.exp * 1000)) {
    throw unauthenticated("token_expired", `token ${claims.id} expired at ${new Date(claims.exp * 1000).toISOString()}`);
  }
  if (options.revocations && (await options.revocations.isRevoked(claims.id))) {
    throw unauthenticated("key_revoked", `key ${claims.id} has been revoked`);
  }
  return claims;
}
