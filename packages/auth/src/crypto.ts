/**
 * The signature primitives of the two token algorithms, on light libraries (the CLI installs
 * this package globally, so size matters):
 *   Ed25519 (SOL_EDDSA): Node's own crypto; the address is the base58 public key (Solana).
 *   secp256k1 EIP-191 (EIP191K): @noble/curves with keccak-256 from @noble/hashes; the address is
 *   the last 20 bytes of keccak(public key), written with the EIP-55 checksum.
 * Both are deterministic (RFC 8032, RFC 6979), so a seed always mints the same bytes.
 */
import { createPrivateKey, createPublicKey, type KeyObject, verify, webcrypto } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import { base58 } from "@scure/base";

const ascii = new TextEncoder();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

// ---- Solana / Ed25519 ----

/** A Solana address: base58 of a 32-byte Ed25519 public key (32 to 44 characters). */
export function isSolanaAddress(address: string): boolean {
  if (address.length < 32 || address.length > 44) return false;
  try {
    return base58.decode(address).length === 32;
  } catch {
    return false;
  }
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 private key (RFC 8410), so Node can import it.
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** The Ed25519 key pair of a 32-byte seed, as non-extractable WebCrypto keys, and its address. */
export async function ed25519KeyPair(seed: Uint8Array): Promise<{ keyPair: webcrypto.CryptoKeyPair; address: string }> {
  const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  const raw = Buffer.from(createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({ format: "jwk" }).x as string, "base64url");
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", false, ["sign"]),
    webcrypto.subtle.importKey("raw", raw, "Ed25519", true, ["verify"]),
  ]);
  pkcs8.fill(0);
  return { keyPair: { privateKey, publicKey }, address: base58.encode(raw) };
}

export async function ed25519Sign(privateKey: webcrypto.CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.sign("Ed25519", privateKey, data));
}

// Building a public key from an address costs a decode and a key import; keep recent ones.
const ed25519Keys = new Map<string, KeyObject>();
function ed25519PublicKey(address: string): KeyObject {
  let key = ed25519Keys.get(address);
  if (!key) {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(base58.decode(address)).toString("base64url") }, format: "jwk" });
    if (ed25519Keys.size >= 1024) ed25519Keys.delete(ed25519Keys.keys().next().value as string);
    ed25519Keys.set(address, key);
  }
  return key;
}

/** Whether `signature` is the Ed25519 signature of `data` by the key of a Solana address. */
export function ed25519Verify(address: string, data: Uint8Array, signature: Uint8Array): boolean {
  return verify(null, data, ed25519PublicKey(address), signature);
}

// ---- EVM / secp256k1 ----

/** An EVM address in any hex case (the checksum is not checked: the signature proves the signer). */
export function isEvmAddress(address: string): boolean {
  return /^0x[0-9a-fA-F]{40}$/.test(address);
}

/** The EIP-55 checksummed form of an EVM address. */
export function checksumAddress(address: string): string {
  const lower = address.slice(2).toLowerCase();
  const hash = hex(keccak_256(ascii.encode(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const char = lower.charAt(i);
    out += Number.parseInt(hash.charAt(i), 16) >= 8 ? char.toUpperCase() : char;
  }
  return out;
}

function addressOfPublicKey(uncompressed: Uint8Array): string {
  return checksumAddress(`0x${hex(keccak_256(uncompressed.subarray(1)).subarray(-20))}`);
}

/** The EIP-55 address of a secp256k1 private key; throws when the key is not in (0, n). */
export function evmAddressOf(privateKey: Uint8Array): string {
  return addressOfPublicKey(secp256k1.getPublicKey(privateKey, false));
}

/** keccak-256 of the EIP-191 personal message ("\x19Ethereum Signed Message:\n" + length + data). */
function personalMessageHash(data: Uint8Array): Uint8Array {
  const prefix = ascii.encode(`\x19Ethereum Signed Message:\n${data.length}`);
  const message = new Uint8Array(prefix.length + data.length);
  message.set(prefix);
  message.set(data, prefix.length);
  return keccak_256(message);
}

/** EIP-191 personal_sign: 65 bytes r || s || v with v = 27 + recovery bit (low s, RFC 6979). */
export function eip191Sign(privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  const signature = secp256k1.sign(personalMessageHash(data), privateKey, { lowS: true });
  const out = new Uint8Array(65);
  out.set(signature.toCompactRawBytes());
  out[64] = 27 + signature.recovery;
  return out;
}

/** The checksummed address that made an EIP-191 signature of `data`; throws on an invalid one. */
export function eip191Recover(data: Uint8Array, signature: Uint8Array): string {
  const v = signature[64];
  // v is 27/28 as personal_sign writes it, or the bare recovery bit 0/1.
  const recovery = v === 0 || v === 27 ? 0 : v === 1 || v === 28 ? 1 : undefined;
  if (recovery === undefined || signature.length !== 65) throw new Error("bad recovery id");
  const point = secp256k1.Signature.fromCompact(signature.subarray(0, 64)).addRecoveryBit(recovery).recoverPublicKey(personalMessageHash(data));
  return addressOfPublicKey(point.toRawBytes(false));
}
