import type { MppConfig } from "@bitrouter/config";
import type { Store } from "@bitrouter/store";
import { Challenge, Credential, Receipt } from "mppx";
import { Mppx, tempo } from "mppx/server";
import { createClient, createPublicClient, formatUnits, http, isAddress } from "viem";
import { tempoLocalnet } from "viem/chains";
import { Transaction } from "viem/tempo";
import { deletePaymentState, putPaymentState, updatePaymentState } from "@bitrouter/store";
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

export type ChargeOutcome = Settled | Refused;

/** Money moved: the receipt for the caller and what the ledger records. */
export interface Settled {
  paid: true;
  /** The `Payment-Receipt` header value. */
  receipt: string;
  /** e.g. `tempo/charge`. */
  method: string;
  /** The transaction hash. */
  reference: string;
}

/** No money moved: the status, challenge (and its header) and message to answer with. */
export interface Refused {
  paid: false;
  status: number;
  headers: Record<string, string>;
  message: string;
  /** The challenge to pay, as an object (MCP carries it in a JSON-RPC error). */
  challenge: Challenge.Challenge;
  /** Whether a credential was sent and refused (MCP: -32043), rather than missing (-32042). */
  refused: boolean;
}

/**
 * A valid credential held for one request, not yet settled: `settle()` moves the money (once; the
 * same outcome on every call), `release()` gives the credential up unpaid (a failed request).
 */
export interface Authorization {
  paid: false;
  authorized: true;
  /** The challenge the credential pays (MCP receipts name it). */
  readonly challengeId: string;
  settle(): Promise<ChargeOutcome>;
  release(): Promise<void>;
  /** When the signed payment stops being valid (epoch ms): settle before then, answered or not. */
  readonly settleBy?: number;
}

/** Checks payment credentials against the configured network, and writes challenges. */
export interface PaymentGate {
  readonly network: PaymentNetwork;
  /** Settings that are accepted but have no effect yet (say so in the log). */
  readonly warnings: readonly string[];
  /**
   * Checks the caller's credential (see findPaymentCredential; MCP: the `_meta` credential object)
   * for exactly `amount` base units without moving money, and holds it for this request: a second
   * use of the same challenge is refused until it is released. Without a valid credential, the
   * answer is the challenge to pay.
   */
  authorize(credential: string | Credential.Credential | undefined, amount: bigint, options: { description: string }): Promise<Authorization | Refused>;
}

/** Our hold on a challenge (one request pays it), beside mppx's own replay markers. */
const HOLD_PREFIX = "bitrouter:charge:";

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
        // Only signed transactions that BitRouter broadcasts ("pull"): money moves when the request
        // is answered, never for one that fails. (A "push" payer would have paid before asking.)
        supportedModes: ["pull"],
        ...(network.currency ? { currency: network.currency } : {}),
      }),
    ],
    secretKey,
    realm: config.realm ?? "bitrouter",
    requiresAuth: options.requiresAuth,
  });
  const resource = `https://${config.realm ?? "bitrouter"}/`;

  const price = (amount: bigint) => ({ amount: formatUnits(amount, network.decimals) });
  /** The challenge for `amount`, with `message` (or the default) for the caller. */
  const challenge = async (amount: bigint, description: string, message?: string): Promise<Refused> => {
    const result = await mppx.charge({ ...price(amount), description })(new Request(resource, { method: "POST" }));
    if (result.status !== 402) throw new Error("mppx answered a request without credential as paid");
    const header = result.challenge.headers.get("www-authenticate") ?? "";
    return {
      paid: false,
      status: 402,
      headers: { "www-authenticate": header },
      message: message ?? NO_CREDENTIAL,
      challenge: Challenge.deserialize(header),
      refused: message !== undefined,
    };
  };

  return {
    network,
    warnings,
    async authorize(credential, amount, { description }) {
      if (!credential) return challenge(amount, description);
      let parsed: Credential.Credential;
      try {
        parsed = typeof credential === "string" ? Credential.deserialize(credential) : credential;
        // Verified, not settled: mppx checks the challenge (ours, this price, not expired) and
        // simulates the signed transfer; nothing is broadcast.
        await mppx.validateCredential(parsed, { request: price(amount) });
      } catch (error) {
        return challenge(amount, description, refusedMessage(error));
      }
      const hold = `${HOLD_PREFIX}${parsed.challenge.id}`;
      const held = await updatePaymentState(options.store, hold, (current) =>
        current === null ? { op: "set", value: { at: Date.now() }, result: true } : { op: "noop", result: false },
      );
      if (!held) return challenge(amount, description, `${REFUSED}: this challenge was already paid (or is being paid)`);

      let settled: Promise<ChargeOutcome> | undefined;
      const settle = () => {
        settled ??= mppx.broadcastCredential(parsed, { request: price(amount) }).then(
          async (receipt): Promise<ChargeOutcome> => {
            // The hold now stays: the challenge is paid (mppx also remembers the transaction).
            await putPaymentState(options.store, hold, { at: Date.now(), paid: receipt.reference });
            return { paid: true, receipt: Receipt.serialize(receipt), method: `${receipt.method}/charge`, reference: receipt.reference };
          },
          async (error: unknown): Promise<ChargeOutcome> => {
            await deletePaymentState(options.store, hold);
            return challenge(amount, description, refusedMessage(error));
          },
        );
        return settled;
      };
      const deadline = settleBy(parsed);
      return {
        paid: false,
        authorized: true,
        challengeId: parsed.challenge.id,
        settle,
        ...(deadline === undefined ? {} : { settleBy: deadline }),
        async release() {
          if (settled) return; // settling (or settled) already: the money moved, or the hold was dropped
          await deletePaymentState(options.store, hold);
        },
      };
    },
  };
}

const NO_CREDENTIAL = "payment required: pay the challenge in WWW-Authenticate and retry with the credential in Authorization: Payment";
const REFUSED = "payment credential refused";

/** mppx's reason for refusing a credential, for the caller. */
function refusedMessage(error: unknown): string {
  const reason = error instanceof Error ? ((error as { reason?: unknown }).reason ?? error.message) : String(error);
  return `${REFUSED}: ${typeof reason === "string" ? reason : String(reason)}`;
}

/** When the credential's signed transaction stops being valid (epoch ms), if it says. */
function settleBy(credential: Credential.Credential): number | undefined {
  const payload = credential.payload as { type?: unknown; signature?: unknown };
  if (payload.type !== "transaction" || typeof payload.signature !== "string") return undefined;
  try {
    const validBefore = Transaction.deserialize(payload.signature as `0x76${string}`).validBefore;
    return validBefore ? Number(validBefore) * 1000 : undefined;
  } catch {
    return undefined;
  }
}
