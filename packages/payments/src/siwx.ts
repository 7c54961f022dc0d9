import type { webcrypto } from "node:crypto";
import type { UpstreamPayer } from "@bitrouter/providers";
import { getBase58Decoder, signBytes } from "@solana/kit";
import type { LocalAccount } from "viem";
import { createSiweMessage } from "viem/siwe";

/** The x402 extension an upstream offers in its 402, and the request header that answers it. */
const SIWX = "sign-in-with-x";

interface SiwxInfo {
  domain: string;
  uri: string;
  statement?: string;
  version: string;
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

interface SupportedChain {
  chainId: string;
  type: string;
  signatureScheme?: string;
}

/** The operator account's two keys: EVM (EIP-4361 / EIP-191) and Solana (SIWS / Ed25519). */
export interface SiwxAccount {
  evm: LocalAccount;
  solana: { address: string; keyPair: webcrypto.CryptoKeyPair };
}

/**
 * Signs in to upstreams with `auth: {type: custom, method: siwx}` (x402's Sign-In-With-X, CAIP-122):
 * the upstream's 402 carries the challenge in `PAYMENT-REQUIRED` (base64 JSON,
 * `extensions["sign-in-with-x"]`); the operator account signs the message for `chain` (a CAIP-2 id:
 * `eip155:<id>` signs EIP-4361 with EIP-191, `solana:<genesis>` the Solana form with Ed25519) and
 * the request goes again with the proof in `SIGN-IN-WITH-X`. Only challenges for the host that
 * asked are signed, so a 402 cannot collect a login for another site.
 */
export function createSiwxSigner(options: { account: SiwxAccount; chain: string }): UpstreamPayer {
  const { account, chain: caip2 } = options;
  const solana = caip2.startsWith("solana:");
  if (!solana && !/^eip155:\d+$/.test(caip2)) throw new Error(`Sign-In-With-X chain '${caip2}' must be eip155:<chain id> or solana:<genesis hash>`);
  const type = solana ? "ed25519" : "eip191";
  return async ({ url, headers }) => {
    const raw = headers.get("payment-required");
    if (!raw) throw new Error("the 402 carries no PAYMENT-REQUIRED challenge to sign in with");
    const required = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as {
      extensions?: Record<string, { info?: SiwxInfo; supportedChains?: SupportedChain[] }>;
    };
    const extension = required.extensions?.[SIWX];
    if (!extension?.info || !Array.isArray(extension.supportedChains)) throw new Error("the upstream does not offer Sign-In-With-X");
    const offered = extension.supportedChains.find((c) => c.chainId === caip2 && c.type === type);
    if (!offered)
      throw new Error(`the upstream accepts Sign-In-With-X on ${extension.supportedChains.map((c) => c.chainId).join(", ") || "no chain"}, not ${caip2}`);
    const info = extension.info;
    const origin = new URL(url);
    if (info.domain !== origin.host || new URL(info.uri).origin !== origin.origin) {
      throw new Error(`the Sign-In-With-X challenge names ${info.domain} (${info.uri}), not the upstream ${origin.host}: not signed`);
    }
    const address = solana ? account.solana.address : account.evm.address;
    const signature = solana
      ? await signSolana(account.solana.keyPair, solanaMessage(info, address, caip2.slice("solana:".length)))
      : await account.evm.signMessage({ message: evmMessage(info, Number(caip2.slice("eip155:".length))) });
    const proof = { ...info, address, chainId: caip2, type, ...(offered.signatureScheme ? { signatureScheme: offered.signatureScheme } : {}), signature };
    return { [SIWX]: Buffer.from(JSON.stringify(proof)).toString("base64") };
  };

  function evmMessage(info: SiwxInfo, chainId: number): string {
    return createSiweMessage({
      address: account.evm.address,
      chainId,
      domain: info.domain,
      uri: info.uri,
      version: "1",
      nonce: info.nonce,
      issuedAt: new Date(info.issuedAt),
      ...(info.statement === undefined ? {} : { statement: info.statement }),
      ...(info.expirationTime === undefined ? {} : { expirationTime: new Date(info.expirationTime) }),
      ...(info.notBefore === undefined ? {} : { notBefore: new Date(info.notBefore) }),
      ...(info.requestId === undefined ? {} : { requestId: info.requestId }),
      ...(info.resources === undefined ? {} : { resources: info.resources }),
    });
  }
}

/** The Solana form of the CAIP-122 message (as Sign-In-With-Solana writes it). */
function solanaMessage(info: SiwxInfo, address: string, chainReference: string): string {
  const lines = [`${info.domain} wants you to sign in with your Solana account:`, address, ""];
  if (info.statement) lines.push(info.statement, "");
  lines.push(`URI: ${info.uri}`, `Version: ${info.version}`, `Chain ID: ${chainReference}`, `Nonce: ${info.nonce}`, `Issued At: ${info.issuedAt}`);
  if (info.expirationTime) lines.push(`Expiration Time: ${info.expirationTime}`);
  if (info.notBefore) lines.push(`Not Before: ${info.notBefore}`);
  if (info.requestId) lines.push(`Request ID: ${info.requestId}`);
  if (info.resources && info.resources.length > 0) lines.push("Resources:", ...info.resources.map((r) => `- ${r}`));
  return lines.join("\n");
}

/** Ed25519 over the message's UTF-8 bytes, base58 (a Solana signature). */
async function signSolana(keyPair: webcrypto.CryptoKeyPair, message: string): Promise<string> {
  const signature = await signBytes(keyPair.privateKey, new TextEncoder().encode(message));
  return getBase58Decoder().decode(signature);
}
