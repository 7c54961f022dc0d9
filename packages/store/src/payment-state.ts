import { LIMITS } from "./schema.js";
import type { Store } from "./store.js";

/**
 * What an atomic update does with the value it read: keep it, replace it, or remove it. `result`
 * is handed back to the caller either way.
 */
export type PaymentStateChange<R> = { op: "noop"; result: R } | { op: "set"; value: unknown; result: R } | { op: "delete"; result: R };

/** How often a compare-and-set that lost a race is tried again before giving up. */
const MAX_ATTEMPTS = 100;

/** The JSON value stored under `key`, or null. */
export async function getPaymentState(store: Store, key: string): Promise<unknown> {
  const row = await store.db.selectFrom("payment_state").select("value").where("key", "=", checkKey(key)).executeTakeFirst();
  return row ? (JSON.parse(row.value) as unknown) : null;
}

export async function putPaymentState(store: Store, key: string, value: unknown): Promise<void> {
  await updatePaymentState(store, key, () => ({ op: "set", value, result: undefined }));
}

export async function deletePaymentState(store: Store, key: string): Promise<void> {
  await updatePaymentState(store, key, () => ({ op: "delete", result: undefined }));
}

/**
 * Atomic read-modify-write of one key, linearizable across every instance on the database: read
 * the value and its version, let `fn` decide, then write only if the version is still the one read
 * (an insert only if the key is still absent); otherwise read again and re-run `fn`. So `fn` must
 * be synchronous and free of side effects. Portable (no row locks, no dialect-specific upsert).
 */
export async function updatePaymentState<R>(store: Store, key: string, fn: (current: unknown) => PaymentStateChange<R>): Promise<R> {
  checkKey(key);
  const db = store.db;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const row = await db.selectFrom("payment_state").select(["value", "version"]).where("key", "=", key).executeTakeFirst();
    const change = fn(row ? (JSON.parse(row.value) as unknown) : null);
    if (change.op === "noop") return change.result;
    const now = Date.now();
    if (change.op === "delete") {
      if (!row) return change.result;
      const deleted = await db.deleteFrom("payment_state").where("key", "=", key).where("version", "=", Number(row.version)).executeTakeFirst();
      if (deleted.numDeletedRows > 0n) return change.result;
      continue;
    }
    const value = JSON.stringify(change.value);
    if (row) {
      const updated = await db
        .updateTable("payment_state")
        .set({ value, version: Number(row.version) + 1, updated_at: now })
        .where("key", "=", key)
        .where("version", "=", Number(row.version))
        .executeTakeFirst();
      if (updated.numUpdatedRows > 0n) return change.result;
      continue;
    }
    const insert = db.insertInto("payment_state").values({ key, value, version: 1, updated_at: now });
    const inserted = await (store.dialect === "mysql" ? insert.ignore() : insert.onConflict((c) => c.doNothing())).executeTakeFirst();
    if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) return change.result;
  }
  throw new Error(`payment state '${key}' kept changing under ${MAX_ATTEMPTS} concurrent writes; giving up`);
}

function checkKey(key: string): string {
  if (key.length === 0 || key.length > LIMITS.id) throw new Error(`payment state key must be 1-${LIMITS.id} characters`);
  return key;
}

/** A payment the operator's wallet made to an upstream. */
export interface WalletPayment {
  /** The transaction hash. */
  reference: string;
  /** Epoch ms. */
  createdAt: number;
  provider: string;
  url: string;
  /** Base units of the token, as a decimal integer string. */
  amount: string;
  method: string;
  chainId: number | null;
}

/** Records a payment once (the same reference again is ignored). */
export async function recordWalletPayment(store: Store, payment: WalletPayment): Promise<void> {
  if (!/^\d{1,78}$/.test(payment.amount)) throw new Error(`wallet payment amount must be a decimal integer; got '${payment.amount}'`);
  const insert = store.db.insertInto("wallet_payments").values({
    reference: payment.reference,
    created_at: payment.createdAt,
    provider: payment.provider,
    url: payment.url,
    amount: payment.amount,
    method: payment.method,
    chain_id: payment.chainId,
  });
  await (store.dialect === "mysql" ? insert.ignore() : insert.onConflict((c) => c.doNothing())).execute();
}

/** The most recent wallet payments first. */
export async function listWalletPayments(store: Store, options: { limit?: number } = {}): Promise<WalletPayment[]> {
  const rows = await store.db
    .selectFrom("wallet_payments")
    .selectAll()
    .orderBy("created_at", "desc")
    .limit(options.limit ?? 100)
    .execute();
  return rows.map((r) => ({
    reference: r.reference,
    createdAt: Number(r.created_at),
    provider: r.provider,
    url: r.url,
    amount: r.amount,
    method: r.method,
    chainId: r.chain_id === null ? null : Number(r.chain_id),
  }));
}
