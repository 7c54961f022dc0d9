// Builds tokens straight from the protocol's facts with @solana/kit and viem, without this
// package's mintToken: a second implementation to check verifyToken against.
import { createKeyPairFromPrivateKeyBytes, getAddressFromPublicKey, signBytes } from "@solana/kit";
import { bytesToHex, hexToBytes } from "viem";
import { privateKeyToAccount } from "viem/accounts";

export const SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
export const BASE = "eip155:8453";

export function seedOf(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString("base64url");
}

export interface RawSigner {
  solanaAddress: string;
  evmAddress: string;
  sign(alg: "SOL_EDDSA" | "EIP191K", signingInput: string): Promise<Uint8Array>;
}

export async function rawSigner(seed: Uint8Array): Promise<RawSigner> {
  const kp = await createKeyPairFromPrivateKeyBytes(seed);
  const evm = privateKeyToAccount(bytesToHex(seed));
  return {
    solanaAddress: await getAddressFromPublicKey(kp.publicKey),
    evmAddress: evm.address,
    async sign(alg, signingInput) {
      const data = new TextEncoder().encode(signingInput);
      if (alg === "SOL_EDDSA") return new Uint8Array(await signBytes(kp.privateKey, data));
      return hexToBytes(await evm.signMessage({ message: { raw: data } }));
    },
  };
}

/** Signs any header/payload (given as JSON text or objects) with the chosen algorithm. */
export async function handToken(
  signer: RawSigner,
  header: object | string,
  payload: object | string,
  signAlg: "SOL_EDDSA" | "EIP191K" = "SOL_EDDSA",
): Promise<string> {
  const h = b64url(typeof header === "string" ? header : JSON.stringify(header));
  const p = b64url(typeof payload === "string" ? payload : JSON.stringify(payload));
  const sig = await signer.sign(signAlg, `${h}.${p}`);
  return `${h}.${p}.${b64url(sig)}`;
}

export function segments(token: string): [string, string, string] {
  const [h, p, s] = token.split(".");
  if (h === undefined || p === undefined || s === undefined) throw new Error(`not a JWT: ${token}`);
  return [h, p, s];
}

export function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as Record<string, unknown>;
}

export function encodeSegment(value: unknown): string {
  return b64url(JSON.stringify(value));
}
