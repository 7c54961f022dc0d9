import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AuthError,
  createAccount,
  getActiveAccount,
  issuersOf,
  listAccounts,
  mintToken,
  removeAccount,
  setActiveAccount,
  unlockAccount,
  verifyToken,
} from "../src/index.js";

let home: string;
let keysDir: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "bitrouter-auth-"));
  keysDir = join(home, ".keys");
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

async function caught(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe("keystore", () => {
  it("creates accounts with a Solana and an EVM address, 0700 directory and 0600 files", async () => {
    const a = await createAccount(keysDir, { label: "ops" });
    expect(a.solanaAddress).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(a.evmAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(a.prefix).toBe(a.solanaAddress.slice(0, 8));
    expect(a).toMatchObject({ index: 0, label: "ops", encrypted: false, active: true });
    expect(await mode(keysDir)).toBe(0o700);
    for (const name of await readdir(keysDir)) expect(await mode(join(keysDir, name))).toBe(0o600);
    expect((await readdir(keysDir)).sort()).toEqual([`${a.solanaAddress}.json`, "active"].sort());
  });

  it("tightens an existing keys directory that was too open", async () => {
    const { mkdir } = await import("node:fs/promises");
    await mkdir(keysDir, { mode: 0o755 });
    await createAccount(keysDir);
    expect(await mode(keysDir)).toBe(0o700);
  });

  it("derives both addresses from one seed: the unlocked account signs as the listed addresses", async () => {
    const info = await createAccount(keysDir);
    const account = await unlockAccount(keysDir, info.prefix);
    expect(account.solanaAddress).toBe(info.solanaAddress);
    expect(account.evmAddress).toBe(info.evmAddress);
    for (const chain of ["solana", "base"] as const) {
      const token = await mintToken(account, {}, { chain });
      await expect(verifyToken(token, { trusted: issuersOf(info) })).resolves.toBeTruthy();
    }
  });

  it("encrypts the seed with a passphrase: round trip, wrong passphrase, missing passphrase", async () => {
    const info = await createAccount(keysDir, { passphrase: "correct horse" });
    expect(info.encrypted).toBe(true);
    const file = JSON.parse(await readFile(info.file, "utf8")) as Record<string, unknown>;
    expect(file.seed).toBeUndefined();
    expect(file.encrypted).toMatchObject({ kdf: "scrypt", N: 32768, r: 8, p: 1, cipher: "aes-256-gcm" });

    const account = await unlockAccount(keysDir, 0, "correct horse");
    expect(account.evmAddress).toBe(info.evmAddress);

    const wrong = await caught(unlockAccount(keysDir, 0, "wrong horse"));
    expect(wrong.code).toBe("wrong_passphrase");
    expect(wrong.message).toContain(info.prefix);
    expect(wrong.message).not.toContain("wrong horse");
    expect((await caught(unlockAccount(keysDir, 0))).code).toBe("passphrase_required");
  });

  it("refuses a ciphertext moved into another account's file (the address is authenticated)", async () => {
    const a = await createAccount(keysDir, { passphrase: "pw" });
    const b = await createAccount(keysDir, { passphrase: "pw" });
    const fa = JSON.parse(await readFile(a.file, "utf8")) as Record<string, unknown>;
    const fb = JSON.parse(await readFile(b.file, "utf8")) as Record<string, unknown>;
    await writeFile(b.file, JSON.stringify({ ...fb, encrypted: fa.encrypted }));
    expect((await caught(unlockAccount(keysDir, b.solanaAddress, "pw"))).code).toBe("wrong_passphrase");
  });

  it("refuses a plain key file whose seed does not give its addresses", async () => {
    const a = await createAccount(keysDir);
    const b = await createAccount(keysDir);
    const fa = JSON.parse(await readFile(a.file, "utf8")) as Record<string, unknown>;
    const fb = JSON.parse(await readFile(b.file, "utf8")) as Record<string, unknown>;
    await writeFile(b.file, JSON.stringify({ ...fb, seed: fa.seed }));
    expect((await caught(unlockAccount(keysDir, b.solanaAddress))).code).toBe("bad_key_file");
  });

  it("lists without decrypting, oldest first, and marks the active account", async () => {
    const a = await createAccount(keysDir, { passphrase: "pw", label: "first" });
    const b = await createAccount(keysDir, { label: "second" });
    const list = await listAccounts(keysDir);
    expect(list.map((x) => [x.index, x.label, x.active, x.encrypted])).toEqual([
      [0, "first", true, true],
      [1, "second", false, false],
    ]);
    expect(list.map((x) => x.solanaAddress)).toEqual([a.solanaAddress, b.solanaAddress]);
    expect(await listAccounts(join(home, "missing"))).toEqual([]);
  });

  it("sets the active account by index, prefix, EVM prefix or label", async () => {
    const a = await createAccount(keysDir, { label: "a" });
    const b = await createAccount(keysDir, { label: "b" });
    expect((await getActiveAccount(keysDir))?.solanaAddress).toBe(a.solanaAddress);
    await setActiveAccount(keysDir, "1");
    expect((await getActiveAccount(keysDir))?.solanaAddress).toBe(b.solanaAddress);
    await setActiveAccount(keysDir, a.prefix);
    expect((await getActiveAccount(keysDir))?.solanaAddress).toBe(a.solanaAddress);
    await setActiveAccount(keysDir, b.evmAddress.slice(0, 12).toUpperCase().replace("0X", "0x"));
    expect((await getActiveAccount(keysDir))?.solanaAddress).toBe(b.solanaAddress);
    await setActiveAccount(keysDir, "a");
    expect((await getActiveAccount(keysDir))?.label).toBe("a");
    expect(await mode(join(keysDir, "active"))).toBe(0o600);
  });

  it("explains a choice that matches nothing, or several accounts, listing the choices", async () => {
    const a = await createAccount(keysDir, { label: "x" });
    const b = await createAccount(keysDir, { label: "x" });
    const notFound = await caught(setActiveAccount(keysDir, "zzzz"));
    expect(notFound.code).toBe("account_not_found");
    expect(notFound.message).toContain(a.prefix);
    expect(notFound.message).toContain(b.prefix);
    const ambiguous = await caught(setActiveAccount(keysDir, "x"));
    expect(ambiguous.code).toBe("ambiguous_account");
    expect(ambiguous.message).toContain(a.prefix);
    expect(ambiguous.message).toContain(b.prefix);
    expect((await caught(setActiveAccount(join(home, "empty"), 0))).code).toBe("no_accounts");
  });

  it("removes an account and clears the active pointer when it was active", async () => {
    const a = await createAccount(keysDir);
    await createAccount(keysDir);
    await removeAccount(keysDir, a.prefix);
    expect((await listAccounts(keysDir)).map((x) => x.solanaAddress)).not.toContain(a.solanaAddress);
    expect(await getActiveAccount(keysDir)).toBeUndefined();
  });

  it("keeps the seed out of every error message", async () => {
    const info = await createAccount(keysDir);
    const seed = (JSON.parse(await readFile(info.file, "utf8")) as { seed: string }).seed;
    const errors = [await caught(setActiveAccount(keysDir, "nope")), await caught(createAccount(keysDir, { passphrase: "" }))];
    for (const e of errors) expect(e.message).not.toContain(seed);
  });
});
