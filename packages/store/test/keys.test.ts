import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  deleteKey,
  getAccount,
  getKey,
  isRevoked,
  listAccounts,
  listKeys,
  listRevocations,
  openStore,
  revokeKey,
  saveAccount,
  saveKey,
  type Store,
  StoreError,
} from "../src/index.js";
import { allBackends, type TestDatabase } from "./backends.js";

describe.each(allBackends)("$name: keys, accounts, revocations", (backend) => {
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

  test("accounts: save, replace, list, get", async () => {
    await saveAccount(store, { id: "acct-b", label: "bob", createdAt: 2000 });
    await saveAccount(store, { id: "acct-a", label: "alice", solanaAddress: "So1ana", evmAddress: "0xabc", createdAt: 1000 });
    await saveAccount(store, { id: "acct-b", label: "bob renamed", createdAt: 2000 });
    expect(await listAccounts(other)).toEqual([
      { id: "acct-a", label: "alice", solanaAddress: "So1ana", evmAddress: "0xabc", createdAt: 1000 },
      { id: "acct-b", label: "bob renamed", solanaAddress: null, evmAddress: null, createdAt: 2000 },
    ]);
    expect(await getAccount(other, "acct-b")).toMatchObject({ label: "bob renamed" });
    expect(await getAccount(other, "missing")).toBeUndefined();
  });

  test("keys: save, replace, list by account, get, delete", async () => {
    const full = {
      id: "key-1",
      accountId: "acct-a",
      name: "ci",
      scope: "api",
      models: ["openai:*", "anthropic:claude-*"],
      tools: ["github/*"],
      budgetMicroUsd: 5_000_000_000_000,
      budgetScope: "account",
      budgetRange: "duration:3600s",
      expiresAt: 1_900_000_000_000,
      createdAt: 10,
    };
    expect(await saveKey(store, full)).toEqual(full);
    await saveKey(store, { id: "key-2", accountId: "acct-b", scope: "admin", createdAt: 20 });
    expect(await getKey(other, "key-1")).toEqual(full);
    expect(await getKey(other, "key-2")).toEqual({
      id: "key-2",
      accountId: "acct-b",
      name: null,
      scope: "admin",
      models: null,
      tools: null,
      budgetMicroUsd: null,
      budgetScope: null,
      budgetRange: null,
      expiresAt: null,
      createdAt: 20,
    });
    await saveKey(store, { ...full, name: "ci-renamed", models: [] });
    expect(await getKey(other, "key-1")).toMatchObject({ name: "ci-renamed", models: [] });
    expect((await listKeys(other)).map((k) => k.id)).toEqual(["key-1", "key-2"]);
    expect((await listKeys(other, { accountId: "acct-b" })).map((k) => k.id)).toEqual(["key-2"]);
    expect(await deleteKey(store, "key-2")).toBe(true);
    expect(await deleteKey(store, "key-2")).toBe(false);
    expect(await getKey(other, "key-2")).toBeUndefined();
  });

  test("bad key fields are refused with the field named", async () => {
    await expect(saveKey(store, { id: "", accountId: "a", scope: "api" })).rejects.toThrow(/key id must be a non-empty string/);
    await expect(saveKey(store, { id: "k", accountId: "a", scope: "api", budgetMicroUsd: 1.5 })).rejects.toThrow(/key budgetMicroUsd must be an integer/);
    await expect(saveKey(store, { id: "k", accountId: "a", scope: "api", name: "n".repeat(300) })).rejects.toBeInstanceOf(StoreError);
  });

  test("a revocation on one instance is visible to another sharing the database", async () => {
    expect(await isRevoked(other, "key-r1")).toBe(false);
    const first = await revokeKey(store, "key-r1", "leaked in CI logs", 5_000);
    expect(first).toEqual({ keyId: "key-r1", revokedAt: 5_000, reason: "leaked in CI logs" });
    expect(await isRevoked(other, "key-r1")).toBe(true);

    // Revoking again keeps the first revocation.
    expect(await revokeKey(other, "key-r1", "again", 9_000)).toEqual(first);

    await revokeKey(other, "key-r2", undefined, 7_000);
    expect(await listRevocations(store)).toEqual([
      { keyId: "key-r1", revokedAt: 5_000, reason: "leaked in CI logs" },
      { keyId: "key-r2", revokedAt: 7_000, reason: null },
    ]);
    // Polling: only what was revoked at or after `since`.
    expect((await listRevocations(store, 6_000)).map((r) => r.keyId)).toEqual(["key-r2"]);
    expect(await listRevocations(store, 7_001)).toEqual([]);
  });
});
