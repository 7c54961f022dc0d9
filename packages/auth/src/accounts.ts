/**
 * Operator accounts: one random 32-byte seed gives an Ed25519 key (Solana address) and a secp256k1
 * key (EVM address). Keystore layout under `<home>/.keys/` (directory 0700, files 0600):
 *   <solana address>.json   one account: addresses, label, the seed (plain or encrypted)
 *   active                  the Solana address of the active account
 * With a passphrase the seed is encrypted with AES-256-GCM under a key derived with scrypt; the
 * salt, nonce and scrypt parameters are stored next to the ciphertext.
 */
import type { webcrypto } from "node:crypto";
import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from "node:crypto";
import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ed25519KeyPair, evmAddressOf, isSolanaAddress } from "./crypto.js";
import { AuthError, invalidInput } from "./errors.js";
import { isNotFound, writePrivateFile } from "./fsutil.js";

/**
 * An unlocked account: can sign tokens. The Ed25519 key is a non-extractable CryptoKey; the
 * secp256k1 key is held as hex for the libraries that sign EVM messages and payments with it
 * (@bitrouter/payments builds its viem account from it).
 */
export interface Account {
  solanaAddress: string;
  /** EIP-55 checksummed. */
  evmAddress: string;
  /** First 8 characters of the Solana address: how the CLI names an account. */
  prefix: string;
  label?: string;
  solana: webcrypto.CryptoKeyPair;
  /** The secp256k1 private key, 0x-prefixed hex (the seed: both keys come from it). */
  evmPrivateKey: `0x${string}`;
}

/** What `listAccounts` shows: public data only, read without decrypting anything. */
export interface AccountInfo {
  /** Position in the list (0-based, oldest first): `setActiveAccount(dir, "0")`. */
  index: number;
  prefix: string;
  label?: string;
  solanaAddress: string;
  evmAddress: string;
  encrypted: boolean;
  /** ISO 8601. */
  createdAt: string;
  active: boolean;
  file: string;
}

interface EncryptedSeed {
  kdf: "scrypt";
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: "aes-256-gcm";
  nonce: string;
  ciphertext: string;
  tag: string;
}

interface KeyFile {
  version: 1;
  label?: string;
  createdAt: string;
  solanaAddress: string;
  evmAddress: string;
  /** Hex seed, only when not encrypted. */
  seed?: string;
  encrypted?: EncryptedSeed;
}

const SEED_BYTES = 32;
// scrypt cost: N=2^15, r=8 is ~32 MiB and ~100 ms per unlock: slow for guessing, fine for a CLI.
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
const ACTIVE_FILE = "active";

function prefixOf(solanaAddress: string): string {
  return solanaAddress.slice(0, 8);
}

/** Builds the signing keys of an account from its 32-byte seed. */
export async function accountFromSeed(seed: Uint8Array, label?: string): Promise<Account> {
  if (seed.length !== SEED_BYTES) throw invalidInput("bad_seed", `an account seed is ${SEED_BYTES} bytes, got ${seed.length}`);
  // Non-extractable: once unlocked, the Ed25519 private key cannot be read back out of the CryptoKey.
  const { keyPair: solana, address: solanaAddress } = await ed25519KeyPair(seed);
  const account: Account = {
    solanaAddress,
    evmAddress: evmAddressOf(seed),
    prefix: prefixOf(solanaAddress),
    solana,
    evmPrivateKey: `0x${Buffer.from(seed).toString("hex")}`,
  };
  if (label !== undefined) account.label = label;
  return account;
}

/** A random seed that is also a valid secp256k1 private key (0 < k < n; a miss is ~2^-128 likely). */
async function newSeed(): Promise<{ seed: Uint8Array; account: Account }> {
  for (;;) {
    const seed = new Uint8Array(randomBytes(SEED_BYTES));
    try {
      return { seed, account: await accountFromSeed(seed) };
    } catch {
      seed.fill(0);
    }
  }
}

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize("NFC"), salt, 32, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

async function encryptSeed(seed: Uint8Array, passphrase: string, address: string): Promise<EncryptedSeed> {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const key = await deriveKey(passphrase, salt, SCRYPT);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  // The address is authenticated data: a ciphertext copied into another account's file fails.
  cipher.setAAD(Buffer.from(address));
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  return {
    kdf: "scrypt",
    ...SCRYPT,
    salt: salt.toString("base64"),
    cipher: "aes-256-gcm",
    nonce: nonce.toString("base64"),
    ciphertext: ciphertext.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
}

async function decryptSeed(enc: EncryptedSeed, passphrase: string, file: KeyFile): Promise<Uint8Array> {
  if (enc.kdf !== "scrypt" || enc.cipher !== "aes-256-gcm") {
    throw invalidInput("unsupported_keystore", `account ${prefixOf(file.solanaAddress)}: unsupported encryption ${enc.kdf}/${enc.cipher}`);
  }
  const key = await deriveKey(passphrase, Buffer.from(enc.salt, "base64"), enc);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(enc.nonce, "base64"));
  decipher.setAAD(Buffer.from(file.solanaAddress));
  decipher.setAuthTag(Buffer.from(enc.tag, "base64"));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(Buffer.from(enc.ciphertext, "base64")), decipher.final()]));
  } catch {
    throw new AuthError("authentication", "wrong_passphrase", `wrong passphrase for account ${prefixOf(file.solanaAddress)}`);
  }
}

/** Generates a new account and writes it to the keystore; the first account becomes the active one. */
export async function createAccount(keysDir: string, options: { passphrase?: string; label?: string } = {}): Promise<AccountInfo> {
  if (options.passphrase === "") throw invalidInput("empty_passphrase", "the passphrase is empty: omit it to store the key unencrypted", "passphrase");
  // Index order is creation order: keep creation times strictly increasing, even within one ms.
  const existing = await listAccounts(keysDir);
  const newest = existing.at(-1);
  const last = newest === undefined ? 0 : Date.parse(newest.createdAt);
  const createdAt = new Date(Math.max(Date.now(), last + 1)).toISOString();
  const { seed, account } = await newSeed();
  try {
    const file: KeyFile = {
      version: 1,
      ...(options.label === undefined ? {} : { label: options.label }),
      createdAt,
      solanaAddress: account.solanaAddress,
      evmAddress: account.evmAddress,
    };
    if (options.passphrase !== undefined) file.encrypted = await encryptSeed(seed, options.passphrase, account.solanaAddress);
    else file.seed = Buffer.from(seed).toString("hex");
    await writePrivateFile(join(keysDir, `${account.solanaAddress}.json`), `${JSON.stringify(file, null, 2)}\n`);
  } finally {
    seed.fill(0);
  }
  if ((await readActive(keysDir)) === undefined) await writePrivateFile(join(keysDir, ACTIVE_FILE), `${account.solanaAddress}\n`);
  const info = (await listAccounts(keysDir)).find((a) => a.solanaAddress === account.solanaAddress);
  if (!info) throw new Error(`account ${account.prefix} was written but cannot be read back from ${keysDir}`);
  return info;
}

async function readActive(keysDir: string): Promise<string | undefined> {
  try {
    const text = (await readFile(join(keysDir, ACTIVE_FILE), "utf8")).trim();
    return text === "" ? undefined : text;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function readKeyFiles(keysDir: string): Promise<{ file: string; data: KeyFile }[]> {
  let names: string[];
  try {
    names = await readdir(keysDir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const out: { file: string; data: KeyFile }[] = [];
  for (const name of names) {
    // Account files are named by their Solana address; anything else (tokens.json, active) is not one.
    if (!name.endsWith(".json") || !isSolanaAddress(name.slice(0, -5))) continue;
    const file = join(keysDir, name);
    let data: KeyFile;
    try {
      data = JSON.parse(await readFile(file, "utf8")) as KeyFile;
    } catch {
      throw invalidInput("bad_key_file", `key file ${file} is not valid JSON`);
    }
    if (data.version !== 1 || typeof data.solanaAddress !== "string" || typeof data.evmAddress !== "string") {
      throw invalidInput("bad_key_file", `key file ${file} is not a BitRouter account (version 1)`);
    }
    out.push({ file, data });
  }
  out.sort((a, b) => a.data.createdAt.localeCompare(b.data.createdAt) || a.data.solanaAddress.localeCompare(b.data.solanaAddress));
  return out;
}

/** All accounts, oldest first. Reads public fields only: never decrypts, never needs a passphrase. */
export async function listAccounts(keysDir: string): Promise<AccountInfo[]> {
  const [files, active] = await Promise.all([readKeyFiles(keysDir), readActive(keysDir)]);
  return files.map(({ file, data }, index) => {
    const info: AccountInfo = {
      index,
      prefix: prefixOf(data.solanaAddress),
      solanaAddress: data.solanaAddress,
      evmAddress: data.evmAddress,
      encrypted: data.encrypted !== undefined,
      createdAt: data.createdAt,
      active: data.solanaAddress === active,
      file,
    };
    if (data.label !== undefined) info.label = data.label;
    return info;
  });
}

function describe(a: AccountInfo): string {
  return `  ${a.index}: ${a.prefix}${a.label === undefined ? "" : ` (${a.label})`}  ${a.solanaAddress}  ${a.evmAddress}`;
}

/**
 * Finds one account by index (a string of digits that is a valid index), label, Solana address
 * prefix, or EVM address prefix (`0x…`, any case). Errors list the choices.
 */
export function findAccount(accounts: AccountInfo[], indexOrPrefix: string | number): AccountInfo {
  const id = String(indexOrPrefix).trim();
  if (accounts.length === 0) throw new AuthError("not_found", "no_accounts", "no accounts in the keystore: create one first (bitrouter account -g)");
  const byIndex = /^\d+$/.test(id) ? accounts[Number(id)] : undefined;
  if (byIndex) return byIndex;
  const lower = id.toLowerCase();
  const matches =
    id === ""
      ? []
      : accounts.filter((a) => a.label === id || a.solanaAddress.startsWith(id) || (lower.startsWith("0x") && a.evmAddress.toLowerCase().startsWith(lower)));
  const [only] = matches;
  if (only && matches.length === 1) return only;
  if (matches.length === 0) {
    throw new AuthError("not_found", "account_not_found", `no account matches "${id}"; choose one of:\n${accounts.map(describe).join("\n")}`);
  }
  throw invalidInput("ambiguous_account", `"${id}" matches ${matches.length} accounts; use a longer prefix or the index:\n${matches.map(describe).join("\n")}`);
}

/** Makes the chosen account the active one (the one `keygen` signs with). */
export async function setActiveAccount(keysDir: string, indexOrPrefix: string | number): Promise<AccountInfo> {
  const chosen = findAccount(await listAccounts(keysDir), indexOrPrefix);
  await writePrivateFile(join(keysDir, ACTIVE_FILE), `${chosen.solanaAddress}\n`);
  return { ...chosen, active: true };
}

/** The active account's public data, or undefined when none is set (or its file is gone). */
export async function getActiveAccount(keysDir: string): Promise<AccountInfo | undefined> {
  return (await listAccounts(keysDir)).find((a) => a.active);
}

/** Loads an account's keys, decrypting the seed when it is encrypted. `id` as in findAccount. */
export async function unlockAccount(keysDir: string, id: string | number, passphrase?: string): Promise<Account> {
  const info = findAccount(await listAccounts(keysDir), id);
  const data = JSON.parse(await readFile(info.file, "utf8")) as KeyFile;
  let seed: Uint8Array;
  if (data.encrypted) {
    if (passphrase === undefined) {
      throw new AuthError("authentication", "passphrase_required", `account ${info.prefix} is encrypted: a passphrase is required`);
    }
    seed = await decryptSeed(data.encrypted, passphrase, data);
  } else if (typeof data.seed === "string" && /^[0-9a-f]{64}$/i.test(data.seed)) {
    seed = new Uint8Array(Buffer.from(data.seed, "hex"));
  } else {
    throw invalidInput("bad_key_file", `key file ${info.file} holds neither a seed nor an encrypted seed`);
  }
  try {
    const account = await accountFromSeed(seed, data.label);
    // A file whose seed does not give its addresses was edited or corrupted: refuse to sign with it.
    if (account.solanaAddress !== data.solanaAddress || account.evmAddress.toLowerCase() !== data.evmAddress.toLowerCase()) {
      throw invalidInput("bad_key_file", `key file ${info.file}: the stored seed does not match the stored addresses`);
    }
    return account;
  } finally {
    seed.fill(0);
  }
}

/** Deletes an account's key file (and the active pointer if it pointed at it). Irreversible. */
export async function removeAccount(keysDir: string, id: string | number): Promise<AccountInfo> {
  const info = findAccount(await listAccounts(keysDir), id);
  await unlink(info.file);
  if (info.active) await unlink(join(keysDir, ACTIVE_FILE)).catch(() => undefined);
  return info;
}
