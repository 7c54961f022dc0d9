/**
 * CAIP-2 chain ids and CAIP-10 account ids of the two chains BitRouter tokens are signed on:
 * Solana mainnet (Ed25519, alg SOL_EDDSA) and Base (secp256k1 / EIP-191, alg EIP191K).
 */
import { checksumAddress, isEvmAddress, isSolanaAddress } from "./crypto.js";
import { invalidInput } from "./errors.js";

export const SOLANA_CHAIN = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
export const BASE_CHAIN = "eip155:8453";

export type Alg = "SOL_EDDSA" | "EIP191K";
export type ChainName = "solana" | "base";

export const CHAINS: Record<ChainName, { caip2: string; alg: Alg }> = {
  solana: { caip2: SOLANA_CHAIN, alg: "SOL_EDDSA" },
  base: { caip2: BASE_CHAIN, alg: "EIP191K" },
};

export interface Issuer {
  /** CAIP-2 chain id, e.g. `eip155:8453`. */
  chain: string;
  namespace: "solana" | "eip155";
  /** Solana base58 address, or the EVM address as written in the token. */
  address: string;
  /** The CAIP-10 id in canonical form (EVM addresses lower-cased), for comparisons. */
  canonical: string;
}

/** Parses a CAIP-10 account id of a supported chain; undefined when it is not one. */
export function parseCaip10(id: string): Issuer | undefined {
  if (id.startsWith(`${SOLANA_CHAIN}:`)) {
    const address = id.slice(SOLANA_CHAIN.length + 1);
    if (!isSolanaAddress(address)) return undefined;
    return { chain: SOLANA_CHAIN, namespace: "solana", address, canonical: id };
  }
  if (id.startsWith(`${BASE_CHAIN}:`)) {
    const address = id.slice(BASE_CHAIN.length + 1);
    // Accept any hex case (checksummed or not): the signature, not the case, proves the signer.
    if (!isEvmAddress(address)) return undefined;
    return { chain: BASE_CHAIN, namespace: "eip155", address, canonical: `${BASE_CHAIN}:${address.toLowerCase()}` };
  }
  return undefined;
}

/** The CAIP-10 ids of an account on both chains. */
export function issuersOf(account: { solanaAddress: string; evmAddress: string }): string[] {
  return [`${SOLANA_CHAIN}:${account.solanaAddress}`, `${BASE_CHAIN}:${checksumAddress(account.evmAddress)}`];
}

/**
 * Normalises a trusted-issuer entry: a CAIP-10 id, a bare Solana address or a bare EVM address
 * (a bare EVM address is trusted on Base). Throws on anything else so a typo in the config is loud.
 */
export function canonicalIssuer(entry: string): string {
  const parsed = parseCaip10(entry);
  if (parsed) return parsed.canonical;
  if (isEvmAddress(entry)) return `${BASE_CHAIN}:${entry.toLowerCase()}`;
  if (isSolanaAddress(entry)) return `${SOLANA_CHAIN}:${entry}`;
  throw invalidInput(
    "bad_trusted_issuer",
    `trusted issuer "${entry}" is neither a CAIP-10 id (${SOLANA_CHAIN}:<address> or ${BASE_CHAIN}:<0x address>) nor a Solana or EVM address`,
    "trusted",
  );
}

/** Short, public name of an issuer for messages: chain and the first 8 characters of the address. */
export function shortIssuer(issuer: Issuer): string {
  const addr = issuer.namespace === "eip155" ? issuer.address.slice(0, 10) : issuer.address.slice(0, 8);
  return `${issuer.namespace}:${addr}…`;
}
