import type { UpstreamPayer } from "@bitrouter/providers";
import { Challenge, Credential } from "mppx";
import { Mppx, tempo } from "mppx/client";
import type { LocalAccount } from "viem";
import { createClient, http, keccak256 } from "viem";
import { tempoLocalnet } from "viem/chains";

/** What one payment to an upstream cost, for the log and the operator. */
export interface UpstreamPayment {
  url: string;
  /** Base units of the token, as a decimal integer string. */
  amount: string;
  method: string;
  chainId?: number;
  /** The transaction hash. */
  reference: string;
}

/**
 * Pays upstreams' 402 challenges (Tempo `charge`) from the operator's wallet through the mppx
 * client: one on-chain transfer per challenge, refused above `maxAmount` base units so an upstream
 * cannot name any price it likes.
 */
export function createUpstreamPayer(options: {
  account: LocalAccount;
  rpcUrl: string;
  maxAmount: bigint;
  onPaid?: (payment: UpstreamPayment) => void;
}): UpstreamPayer {
  const { rpcUrl, maxAmount } = options;
  const mppx = Mppx.create({
    methods: [
      tempo({
        account: options.account,
        getClient: ({ chainId }) => createClient({ chain: { ...tempoLocalnet, ...(chainId === undefined ? {} : { id: chainId }) }, transport: http(rpcUrl) }),
      }),
    ],
    polyfill: false,
  });
  return async ({ url, headers, body }) => {
    // Of the challenges offered, the Tempo charge is the one the wallet can pay; the client is then
    // shown only that one, so it pays exactly what was checked against the cap.
    const offered = Challenge.fromResponseList(new Response(body, { status: 402, headers }));
    const challenge = offered.find((c) => c.method === "tempo" && c.intent === "charge");
    if (!challenge)
      throw new Error(
        `the upstream asks for ${offered.map((c) => `${c.method}/${c.intent}`).join(", ") || "no Payment challenge"}; the wallet pays tempo/charge`,
      );
    const only = new Headers(headers);
    only.set("www-authenticate", Challenge.serialize(challenge));
    const response = new Response(body, { status: 402, headers: only });
    const request = challenge.request as { amount?: unknown; methodDetails?: { chainId?: unknown } };
    const amount = typeof request.amount === "string" && /^\d+$/.test(request.amount) ? BigInt(request.amount) : undefined;
    if (amount === undefined) throw new Error(`the challenge names no amount (${challenge.method}/${challenge.intent})`);
    if (amount > maxAmount) throw new Error(`the upstream asks ${amount} base units, more than wallet.payment.session_max_deposit (${maxAmount})`);
    const credential = await mppx.createCredential(response);
    const chainId = typeof request.methodDetails?.chainId === "number" ? request.methodDetails.chainId : undefined;
    options.onPaid?.({
      url,
      amount: amount.toString(),
      method: `${challenge.method}/${challenge.intent}`,
      reference: transactionHash(credential),
      ...(chainId === undefined ? {} : { chainId }),
    });
    return { [Challenge.credentialHeader(challenge).toLowerCase()]: credential };
  };
}

/** The hash of the transaction a Tempo charge credential carries (sent by us, or signed for the upstream to send). */
function transactionHash(credential: string): string {
  const payload = Credential.deserialize(credential).payload as { type?: string; hash?: string; signature?: `0x${string}` };
  if (payload.type === "hash" && payload.hash) return payload.hash;
  if (payload.type === "transaction" && payload.signature) return keccak256(payload.signature);
  return `unknown:${payload.type ?? "?"}`;
}
