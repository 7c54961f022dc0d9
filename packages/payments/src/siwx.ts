import type { UpstreamPayer } from "@bitrouter/providers";
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

/**
 * Signs in to upstreams with `auth: {type: custom, method: siwx}` (x402's Sign-In-With-X, CAIP-122):
 * the upstream's 402 carries the challenge in `PAYMENT-REQUIRED` (base64 JSON,
 * `extensions["sign-in-with-x"]`); the operator account signs its EIP-4361 message (EIP-191) and the
 * request goes again with the proof in `SIGN-IN-WITH-X`. Only challenges for the host that asked are
 * signed, so a 402 cannot collect a login for another site.
 */
export function createSiwxSigner(options: { account: LocalAccount; chainId: number }): UpstreamPayer {
  const { account, chainId } = options;
  const caip2 = `eip155:${chainId}`;
  return async ({ url, headers }) => {
    const raw = headers.get("payment-required");
    if (!raw) throw new Error("the 402 carries no PAYMENT-REQUIRED challenge to sign in with");
    const required = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as { extensions?: Record<string, { info?: SiwxInfo; supportedChains?: SupportedChain[] }> };
    const extension = required.extensions?.[SIWX];
    if (!extension?.info || !Array.isArray(extension.supportedChains)) throw new Error("the upstream does not offer Sign-In-With-X");
    const chain = extension.supportedChains.find((c) => c.chainId === caip2 && c.type === "eip191");
    if (!chain) throw new Error(`the upstream accepts Sign-In-With-X on ${extension.supportedChains.map((c) => c.chainId).join(", ") || "no chain"}, not ${caip2} (params.chain_id)`);
    const info = extension.info;
    const origin = new URL(url);
    if (info.domain !== origin.host || new URL(info.uri).origin !== origin.origin) {
      throw new Error(`the Sign-In-With-X challenge names ${info.domain} (${info.uri}), not the upstream ${origin.host}: not signed`);
    }
    const message = createSiweMessage({
      address: account.address,
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
    const signature = await account.signMessage({ message });
    const proof = { ...info, address: account.address, chainId: caip2, type: "eip191", ...(chain.signatureScheme ? { signatureScheme: chain.signatureScheme } : {}), signature };
    return { [SIWX]: Buffer.from(JSON.stringify(proof)).toString("base64") };
  };
}
