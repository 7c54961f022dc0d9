import type { MppConfig } from "@bitrouter/config";
import type { Store } from "@bitrouter/store";
import { Receipt } from "mppx";
import { Mppx, tempo } from "mppx/server";
import { createClient, createPublicClient, formatUnits, http, isAddress } from "viem";
import { tempoLocalnet } from "viem/chains";
import { findPaymentCredential } from "./credential.js";
import { databaseStore } from "./store.js";

/** The network callers pay on (one `mpp.networks` entry, resolved). */
export interface PaymentNetwork {
  /** The key under `mpp.networks`. */
  name: string;
  chainId: number;
  rpcUrl: string;
  recipient: `0x${string}`;
  /** The TIP-20 token; mppx's default for the chain when not configured. */
  currency?: `0x${string}`;
  /** Decimals of every TIP-20 token. */
  decimals: number;
}

export type ChargeOutcome =
  | { paid: true; receipt: string; method: string; reference: string }
  | { paid: false; status: number; headers: Record<string, string>; message: string };

/** Checks payment credentials against the configured network, and writes challenges. */
export interface PaymentGate {
  readonly network: PaymentNetwork;
  /** Settings that are accepted but have no effect yet (say so in the log). */
  readonly warnings: readonly string[];
  /**
   * Verifies (and settles on chain) the caller's credential for exactly `amount` base units, or
   * answers with the challenge to pay it. A credential already used is refused (replay).
   */
  charge(headers: Headers, amount: bigint, options: { description: string; stream: boolean }): Promise<ChargeOutcome>;
}

/** TIP-20 stablecoins all have 6 decimals (mppx assumes the same). */
const TIP20_DECIMALS = 6;

export class PaymentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PaymentConfigError";
  }
}

/**
 * Builds the gate from `mpp:`. Asks the RPC for its chain id once (the challenge names it).
 * `requiresAuth`: callers also send a Bearer JWT, so challenges ask for the credential in
 * `Payment-Authorization` (a client must not replace the token in `Authorization`).
 */
export async function createPaymentGate(options: { config: MppConfig; store: Store; requiresAuth: boolean }): Promise<PaymentGate> {
  const { config } = options;
  const secretKey = config.secret_key;
  if (!secretKey) throw new PaymentConfigError("mpp.secret_key (or MPP_SECRET_KEY) is required when mpp.enabled is true: it signs the payment challenges");
  const entries = Object.entries(config.networks ?? {});
  if (entries.length !== 1) {
    throw new PaymentConfigError(
      `mpp.networks must name exactly one network for now (Tempo); got ${entries.length === 0 ? "none" : entries.map(([name]) => name).join(", ")}`,
    );
  }
  const [name, net] = entries[0]!;
  const at = `mpp.networks.${name}`;
  if (!net.rpc_url) throw new PaymentConfigError(`${at}.rpc_url is required: payments are verified on chain`);
  if (!net.recipient || !isAddress(net.recipient))
    throw new PaymentConfigError(`${at}.recipient must be the 0x address that receives payments; got '${net.recipient ?? ""}'`);
  if (net.currency !== undefined && !isAddress(net.currency))
    throw new PaymentConfigError(`${at}.currency must be a TIP-20 token's 0x address; got '${net.currency}'`);
  if (net.fee_payer) throw new PaymentConfigError(`${at}.fee_payer: true is not supported yet (it needs a server wallet to pay the callers' gas); remove it`);
  const warnings: string[] = [];
  if (net.escrow_contract !== undefined || net.default_deposit !== undefined) {
    warnings.push(`${at}.escrow_contract / default_deposit apply to payment sessions, which are not supported yet: each request is charged once, up front`);
  }

  const rpcUrl = net.rpc_url;
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId();
  } catch (error) {
    throw new PaymentConfigError(
      `${at}.rpc_url ${rpcUrl} does not answer eth_chainId: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    );
  }
  const network: PaymentNetwork = {
    name,
    chainId,
    rpcUrl,
    recipient: net.recipient,
    decimals: TIP20_DECIMALS,
    ...(net.currency ? { currency: net.currency as `0x${string}` } : {}),
  };
  // Tempo transactions (type 0x76) need the Tempo chain's serializers; the id and RPC are ours.
  const chain = { ...tempoLocalnet, id: chainId, rpcUrls: { default: { http: [rpcUrl] } } };
  const getClient = () => createClient({ chain, transport: http(rpcUrl) });

  const mppx = Mppx.create({
    methods: [
      tempo.charge({
        recipient: network.recipient,
        chainId,
        getClient,
        store: databaseStore(options.store),
        ...(network.currency ? { currency: network.currency } : {}),
      }),
    ],
    secretKey,
    realm: config.realm ?? "bitrouter",
    requiresAuth: options.requiresAuth,
  });
  const credentialHeader = options.requiresAuth ? "payment-authorization" : "authorization";
  const resource = `https://${config.realm ?? "bitrouter"}/`;

  return {
    network,
    warnings,
    async charge(headers, amount, { description, stream }) {
      const forward = new Headers();
      const credential = findPaymentCredential(headers);
      if (credential) forward.set(credentialHeader, credential);
      const result = await mppx.charge({ amount: formatUnits(amount, network.decimals), description })(
        new Request(resource, { method: "POST", headers: forward }),
      );
      if (result.status === 402) {
        const answer = result.challenge;
        const challengeHeaders: Record<string, string> = {};
        const challenge = answer.headers.get("www-authenticate");
        if (challenge) challengeHeaders["www-authenticate"] = challenge;
        return { paid: false, status: answer.status, headers: challengeHeaders, message: await refusal(answer, credential !== undefined) };
      }
      // mppx adds `private` to the answer's Cache-Control (a stream keeps its `no-cache`).
      const answer = result.withReceipt(new Response(null, { headers: stream ? { "cache-control": "no-cache" } : {} }));
      const header = answer.headers.get("payment-receipt") ?? "";
      const receipt = Receipt.deserialize(header);
      return { paid: true, receipt: header, method: `${receipt.method}/charge`, reference: receipt.reference };
    },
  };
}

/** What to tell the caller: mppx's problem detail when a credential was refused. */
async function refusal(answer: Response, hadCredential: boolean): Promise<string> {
  const fallback = "payment required: pay the challenge in WWW-Authenticate and retry with the credential in Authorization: Payment";
  if (!hadCredential) return fallback;
  try {
    const problem = (await answer.json()) as { title?: unknown; detail?: unknown };
    const detail = typeof problem.detail === "string" ? problem.detail : typeof problem.title === "string" ? problem.title : undefined;
    return detail ? `payment credential refused: ${detail}` : fallback;
  } catch {
    return fallback;
  }
}
