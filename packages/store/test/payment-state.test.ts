import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  deletePaymentState,
  getPaymentState,
  listWalletPayments,
  openStore,
  putPaymentState,
  recordWalletPayment,
  type Store,
  updatePaymentState,
} from "../src/index.js";
import { allBackends, type TestDatabase } from "./backends.js";

describe.each(allBackends)("$name: payment state", (backend) => {
  let database: TestDatabase;
  let store: Store;
  let other: Store; // a second instance on the same database
  beforeAll(async () => {
    database = await backend.create();
    store = await openStore(database.url);
    other = await openStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await other?.close();
    await database?.drop();
  });

  test("put, get from another instance, replace, delete", async () => {
    expect(await getPaymentState(store, "channel:a")).toBeNull();
    await putPaymentState(store, "channel:a", { spent: "10", deposit: "1000000" });
    expect(await getPaymentState(other, "channel:a")).toEqual({ spent: "10", deposit: "1000000" });
    await putPaymentState(other, "channel:a", { spent: "25", deposit: "1000000" });
    expect(await getPaymentState(store, "channel:a")).toEqual({ spent: "25", deposit: "1000000" });
    await deletePaymentState(store, "channel:a");
    expect(await getPaymentState(other, "channel:a")).toBeNull();
  });

  test("update: noop leaves the value, the result comes back either way", async () => {
    await putPaymentState(store, "channel:b", { spent: 1 });
    const result = await updatePaymentState(store, "channel:b", (current) => ({ op: "noop", result: current }));
    expect(result).toEqual({ spent: 1 });
    expect(await updatePaymentState(store, "channel:b", () => ({ op: "delete", result: "gone" }))).toBe("gone");
    expect(await getPaymentState(store, "channel:b")).toBeNull();
  });

  test("concurrent debits from two instances are all applied exactly once", async () => {
    // The shape of a channel debit: read the balance, refuse if short, else add the amount.
    const debit = (s: Store, amount: number) =>
      updatePaymentState(s, "channel:c", (current) => {
        const spent = (current as { spent: number } | null)?.spent ?? 0;
        if (spent + amount > 40) return { op: "noop", result: false };
        return { op: "set", value: { spent: spent + amount }, result: true };
      });
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => debit(i % 2 === 0 ? store : other, 2)));
    // 40 / 2 = 20 debits fit; the other 10 must be refused, none lost, none applied twice.
    expect(outcomes.filter(Boolean)).toHaveLength(20);
    expect(await getPaymentState(other, "channel:c")).toEqual({ spent: 40 });
  });

  test("a first write that races another insert of the same key is not lost", async () => {
    const add = (s: Store) =>
      updatePaymentState(s, "channel:d", (current) => {
        const n = (current as { n: number } | null)?.n ?? 0;
        return { op: "set", value: { n: n + 1 }, result: n + 1 };
      });
    const results = await Promise.all([add(store), add(other), add(store), add(other)]);
    expect([...results].sort()).toEqual([1, 2, 3, 4]);
    expect(await getPaymentState(store, "channel:d")).toEqual({ n: 4 });
  });
});

describe.each(allBackends)("$name: wallet payments", (backend) => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await backend.create();
    store = await openStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  test("a payment is recorded once, amounts exact beyond 2^64, newest first", async () => {
    const first = {
      reference: `0x${"aa".repeat(32)}`,
      createdAt: 1000,
      provider: "paid",
      url: "http://u/v1/chat/completions",
      amount: "18446744073709551617",
      method: "tempo/charge",
      chainId: 4217,
    };
    await recordWalletPayment(store, first);
    await recordWalletPayment(store, { ...first, amount: "1" }); // the same transaction again: ignored
    await recordWalletPayment(store, { ...first, reference: `0x${"bb".repeat(32)}`, createdAt: 2000, amount: "4200", chainId: null });
    expect(await listWalletPayments(store)).toEqual([{ ...first, reference: `0x${"bb".repeat(32)}`, createdAt: 2000, amount: "4200", chainId: null }, first]);
    await expect(recordWalletPayment(store, { ...first, reference: "0xcc", amount: "1.5" })).rejects.toThrow(/decimal integer/);
  });
});
