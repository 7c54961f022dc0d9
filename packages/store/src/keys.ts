import type { Selectable } from "kysely";
import { StoreError } from "./errors.js";
import { type AccountsTable, type KeysTable, LIMITS } from "./schema.js";
import type { Store } from "./store.js";

export interface AccountRecord {
  id: string;
  label: string | null;
  solanaAddress: string | null;
  evmAddress: string | null;
  /** Epoch ms. */
  createdAt: number;
}

export type AccountInput = Pick<AccountRecord, "id"> & Partial<Omit<AccountRecord, "id">>;

export interface KeyRecord {
  /** The token's key id (e.g. its `jti`). */
  id: string;
  accountId: string;
  name: string | null;
  scope: string;
  /** Model patterns, or null for any model. */
  models: string[] | null;
  /** Tool patterns, or null for any tool. */
  tools: string[] | null;
  budgetMicroUsd: number | null;
  budgetScope: string | null;
  /** As given on the CLI, e.g. `rounds:10` or `duration:3600s`. */
  budgetRange: string | null;
  /** Epoch ms, or null for never. */
  expiresAt: number | null;
  createdAt: number;
}

export type KeyInput = Pick<KeyRecord, "id" | "accountId" | "scope"> & Partial<Omit<KeyRecord, "id" | "accountId" | "scope">>;

export interface Revocation {
  keyId: string;
  /** Epoch ms. */
  revokedAt: number;
  reason: string | null;
}

function requireText(field: string, value: unknown, max: number): string {
  if (typeof value !== "string" || value === "") throw new StoreError("config", `${field} must be a non-empty string`);
  if (value.length > max) throw new StoreError("config", `${field} is longer than ${max} characters`);
  return value;
}

function optionalText(field: string, value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  return requireText(field, value, max);
}

function optionalInt(field: string, value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value)) throw new StoreError("config", `${field} must be an integer, got ${value}`);
  return value;
}

/** Create or replace an account. */
export async function saveAccount(store: Store, account: AccountInput): Promise<AccountRecord> {
  const row = {
    id: requireText("account id", account.id, LIMITS.id),
    label: optionalText("account label", account.label, LIMITS.short),
    solana_address: optionalText("account solanaAddress", account.solanaAddress, LIMITS.short),
    evm_address: optionalText("account evmAddress", account.evmAddress, LIMITS.short),
    created_at: optionalInt("account createdAt", account.createdAt) ?? Date.now(),
  };
  const { id: _id, ...update } = row;
  const insert = store.db.insertInto("accounts").values(row);
  if (store.dialect === "mysql") await insert.onDuplicateKeyUpdate(update).execute();
  else await insert.onConflict((oc) => oc.column("id").doUpdateSet(update)).execute();
  return toAccount(row);
}

export async function listAccounts(store: Store): Promise<AccountRecord[]> {
  const rows = await store.db.selectFrom("accounts").selectAll().orderBy("created_at").orderBy("id").execute();
  return rows.map(toAccount);
}

export async function getAccount(store: Store, id: string): Promise<AccountRecord | undefined> {
  const row = await store.db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toAccount(row);
}

function toAccount(row: Selectable<AccountsTable>): AccountRecord {
  return {
    id: row.id,
    label: row.label,
    solanaAddress: row.solana_address,
    evmAddress: row.evm_address,
    createdAt: Number(row.created_at),
  };
}

function patterns(field: string, value: string[] | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.some((p) => typeof p !== "string")) {
    throw new StoreError("config", `${field} must be an array of strings`);
  }
  return JSON.stringify(value);
}

/** Create or replace a key's metadata (never the token itself). */
export async function saveKey(store: Store, key: KeyInput): Promise<KeyRecord> {
  const row = {
    id: requireText("key id", key.id, LIMITS.id),
    account_id: requireText("key accountId", key.accountId, LIMITS.id),
    name: optionalText("key name", key.name, LIMITS.short),
    scope: requireText("key scope", key.scope, LIMITS.short),
    models: patterns("key models", key.models),
    tools: patterns("key tools", key.tools),
    budget_micro_usd: optionalInt("key budgetMicroUsd", key.budgetMicroUsd),
    budget_scope: optionalText("key budgetScope", key.budgetScope, LIMITS.short),
    budget_range: optionalText("key budgetRange", key.budgetRange, LIMITS.short),
    expires_at: optionalInt("key expiresAt", key.expiresAt),
    created_at: optionalInt("key createdAt", key.createdAt) ?? Date.now(),
  };
  const { id: _id, ...update } = row;
  const insert = store.db.insertInto("keys").values(row);
  if (store.dialect === "mysql") await insert.onDuplicateKeyUpdate(update).execute();
  else await insert.onConflict((oc) => oc.column("id").doUpdateSet(update)).execute();
  return toKey(row);
}

export async function getKey(store: Store, id: string): Promise<KeyRecord | undefined> {
  const row = await store.db.selectFrom("keys").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toKey(row);
}

export async function listKeys(store: Store, filter: { accountId?: string } = {}): Promise<KeyRecord[]> {
  let query = store.db.selectFrom("keys").selectAll();
  if (filter.accountId !== undefined) query = query.where("account_id", "=", filter.accountId);
  const rows = await query.orderBy("created_at").orderBy("id").execute();
  return rows.map(toKey);
}

/** Remove a key's metadata. Returns whether it existed. Does not revoke it: see revokeKey. */
export async function deleteKey(store: Store, id: string): Promise<boolean> {
  const result = await store.db.deleteFrom("keys").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

function toKey(row: Selectable<KeysTable>): KeyRecord {
  const int = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    scope: row.scope,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    tools: row.tools === null ? null : (JSON.parse(row.tools) as string[]),
    budgetMicroUsd: int(row.budget_micro_usd),
    budgetScope: row.budget_scope,
    budgetRange: row.budget_range,
    expiresAt: int(row.expires_at),
    createdAt: Number(row.created_at),
  };
}

/**
 * Revoke a key. Idempotent: revoking twice keeps the first revocation (its time and reason),
 * which is returned.
 */
export async function revokeKey(store: Store, keyId: string, reason?: string, revokedAt: number = Date.now()): Promise<Revocation> {
  const row = {
    key_id: requireText("key id", keyId, LIMITS.id),
    revoked_at: optionalInt("revokedAt", revokedAt) ?? Date.now(),
    reason: reason === undefined || reason === "" ? null : reason.slice(0, LIMITS.reason),
  };
  const insert = store.db.insertInto("key_revocations").values(row);
  if (store.dialect === "mysql") await insert.ignore().execute();
  else await insert.onConflict((oc) => oc.column("key_id").doNothing()).execute();
  const stored = await store.db.selectFrom("key_revocations").selectAll().where("key_id", "=", row.key_id).executeTakeFirstOrThrow();
  return toRevocation(stored);
}

export async function isRevoked(store: Store, keyId: string): Promise<boolean> {
  const row = await store.db.selectFrom("key_revocations").select("key_id").where("key_id", "=", keyId).executeTakeFirst();
  return row !== undefined;
}

/**
 * Whether this database has heard of the key id: a key record, a revocation, or a request on the
 * ledger. `bitrouter keys --revoke` uses it to tell a mistyped id from a real one.
 */
export async function keyIdKnown(store: Store, keyId: string): Promise<boolean> {
  const found = await Promise.all([
    store.db.selectFrom("keys").select("id").where("id", "=", keyId).executeTakeFirst(),
    store.db.selectFrom("key_revocations").select("key_id").where("key_id", "=", keyId).executeTakeFirst(),
    store.db.selectFrom("requests").select("key_id").where("key_id", "=", keyId).limit(1).executeTakeFirst(),
  ]);
  return found.some((row) => row !== undefined);
}

/**
 * Revocations with revokedAt >= since (all, without since), oldest first. For polling from other
 * instances: pass the newest revokedAt seen minus a safety margin (clock skew between instances,
 * transactions committing out of order) and de-duplicate by keyId; the table is small.
 */
export async function listRevocations(store: Store, since?: number): Promise<Revocation[]> {
  let query = store.db.selectFrom("key_revocations").selectAll();
  if (since !== undefined) query = query.where("revoked_at", ">=", since);
  const rows = await query.orderBy("revoked_at").orderBy("key_id").execute();
  return rows.map(toRevocation);
}

function toRevocation(row: { key_id: string; revoked_at: number; reason: string | null }): Revocation {
  return { keyId: row.key_id, revokedAt: Number(row.revoked_at), reason: row.reason };
}
