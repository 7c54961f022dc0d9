import type { MppConfig } from "@bitrouter/config";
import type { Store } from "@bitrouter/store";
import { Challenge, Credential, Receipt } from "mppx";
import { Mppx, evm, tempo } from "mppx/server";
import type { LocalAccount } from "viem";
import { createClient, createPublicClient, createWalletClient, defineChain, formatUnits, http, isAddress, parseAbi } from "viem";
import { tempoLocalnet } from "viem/chains";
import { Transaction } from "viem/tempo";
import { deletePaymentState, putPaymentState, updatePaymentState } from "@bitrouter/store";
import { microUsdToUnits } from "./quote.js";
import { databaseStore } from "./store.js";

/** A network callers may pay on (one `mpp.networks` entry, resolved). */
export interface PaymentNetwork {
  /** The key under `mpp.networks`. */
  name: string;
  /** mppx's payment method: `tempo` (a TIP-20 transfer) or `evm` (an EIP-3009 ERC-20 transfer). */
  method: "tempo" | "evm";
  chainId: number;
  rpcUrl: string;
  recipient: `0x${string}`;
  /** The token; for tempo, mppx's default for the chain when not configured. */
  currency?: `0x${string}`;
  /** The token's decimals: prices are micro-USD, converted with these (see microUsdToUnits). */
  decimals: number;
}

export type ChargeOutcome = Settled | Refused;

/** Money moved: the receipt for the caller and what the ledger records. */
export interface Settled {
  paid: true;
  /** The `Payment-Receipt` header value. */
  receipt: string;
  /** `<network>:<method>/charge`, e.g. `tempo:tempo/charge`, `base:evm/charge`. */
  method: string;
  /** The transaction hash. */
  reference: string;
  /** What moved, in base units of the network's token. */
  amount: bigint;
}

/** No money moved: the status, challenge (and its header) and message to answer with. */
export interface Refused {
  paid: false;
  status: number;
  headers: Record<string, string>;
  message: string;
  /** The challenges to pay, one per network, as objects (MCP carries them in a JSON-RPC error). */
  challenges: Challenge.Challenge[];
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

/** Checks payment credentials against the configured networks, and writes challenges. */
export interface PaymentGate {
  readonly networks: readonly PaymentNetwork[];
  /** Settings that are accepted but have no effect yet (say so in the log). */
  readonly warnings: readonly string[];
  /**
   * Checks the caller's credential (see findPaymentCredential; MCP: the `_meta` credential object)
   * for exactly `priceMicroUsd` (in base units of the network it pays on) without moving money, and
   * holds it for this request: a second use of the same challenge is refused until it is released.
   * Without a valid credential, the answer is a challenge per network.
   */
  authorize(credential: string | Credential.Credential | undefined, priceMicroUsd: bigint, options: { description: string }): Promise<Authorization | Refused>;
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

/** One network's mppx server (one method each: two evm networks would share mppx's `evm/charge` key). */
interface NetworkServer {
  network: PaymentNetwork;
  mppx: { charge: (options: { amount: string; description: string }) => (request: Request) => Promise<{ status: number; challenge?: Response }> } & Pick<
    ReturnType<typeof Mppx.create>,
    "validateCredential" | "broadcastCredential"
  >;
  /** evm: the transfer simulates from the settling account (mppx's evm method only checks the signature). */
  simulate?: (credential: Credential.Credential) => Promise<void>;
}

/**
 * Builds the gate from `mpp:`. Asks each network's RPC for its chain id once (the challenge names
 * it). `requiresAuth`: callers also send a Bearer JWT, so challenges ask for the credential in
 * `Payment-Authorization` (a client must not replace the token in `Authorization`). `settler`: the
 * account that submits `evm` payments (EIP-3009 authorizations are sent by the payee, who pays gas);
 * required only when an `evm` network is configured.
 */
export async function createPaymentGate(options: { config: MppConfig; store: Store; requiresAuth: boolean; settler?: LocalAccount }): Promise<PaymentGate> {
  const { config } = options;
  const secretKey = config.secret_key;
  if (!secretKey) throw new PaymentConfigError("mpp.secret_key (or MPP_SECRET_KEY) is required when mpp.enabled is true: it signs the payment challenges");
  const entries = Object.entries(config.networks ?? {});
  if (entries.length === 0) throw new PaymentConfigError("mpp.networks must name at least one network to be paid on");
  const warnings: string[] = [];
  const common = { secretKey, realm: config.realm ?? "bitrouter", requiresAuth: options.requiresAuth };
  const servers = await Promise.all(
    entries.map(([name, net]) =>
      (net.method ?? "tempo") === "evm"
        ? evmServer(name, net, common, options.settler)
        : tempoServer(name, net, common, databaseStore(options.store), warnings),
    ),
  );
  const resource = `https://${common.realm}/`;
  const price = (server: NetworkServer, micro: bigint) => {
    const units = microUsdToUnits(micro, server.network.decimals);
    return { units, request: { amount: formatUnits(units, server.network.decimals) } };
  };

  /** A challenge per network for `micro`, with `message` (or the default) for the caller. */
  const challenge = async (micro: bigint, description: string, message?: string): Promise<Refused> => {
    const headers = await Promise.all(
      servers.map(async (server) => {
        const result = await server.mppx.charge({ ...price(server, micro).request, description })(new Request(resource, { method: "POST" }));
        if (result.status !== 402 || !result.challenge) throw new Error("mppx answered a request without credential as paid");
        return result.challenge.headers.get("www-authenticate") ?? "";
      }),
    );
    return {
      paid: false,
      status: 402,
      // Several challenges in one header, comma-separated (RFC 9110 §11.6.1): what mppx's own
      // compose() sends and its client reads.
      headers: { "www-authenticate": headers.join(", ") },
      message: message ?? NO_CREDENTIAL,
      challenges: headers.map((header) => Challenge.deserialize(header)),
      refused: message !== undefined,
    };
  };

  return {
    networks: servers.map((server) => server.network),
    warnings,
    async authorize(credential, micro, { description }) {
      if (!credential) return challenge(micro, description);
      let parsed: Credential.Credential;
      let server: NetworkServer;
      try {
        parsed = typeof credential === "string" ? Credential.deserialize(credential) : credential;
        server = serverFor(servers, parsed.challenge);
        // Verified, not settled: mppx checks the challenge (ours, this price, not expired) and the
        // signed transfer; nothing is broadcast.
        await server.mppx.validateCredential(parsed, { request: price(server, micro).request });
        await server.simulate?.(parsed);
      } catch (error) {
        return challenge(micro, description, refusedMessage(error));
      }
      const { units, request } = price(server, micro);
      const hold = `${HOLD_PREFIX}${parsed.challenge.id}`;
      const held = await updatePaymentState(options.store, hold, (current) =>
        current === null ? { op: "set", value: { at: Date.now() }, result: true } : { op: "noop", result: false },
      );
      if (!held) return challenge(micro, description, `${REFUSED}: this challenge was already paid (or is being paid)`);

      let settled: Promise<ChargeOutcome> | undefined;
      const settle = () => {
        settled ??= server.mppx.broadcastCredential(parsed, { request }).then(
          async (receipt): Promise<ChargeOutcome> => {
            // The hold now stays: the challenge is paid (mppx also remembers the transaction).
            await putPaymentState(options.store, hold, { at: Date.now(), paid: receipt.reference });
            return {
              paid: true,
              receipt: Receipt.serialize(receipt),
              method: `${server.network.name}:${receipt.method}/charge`,
              reference: receipt.reference,
              amount: units,
            };
          },
          async (error: unknown): Promise<ChargeOutcome> => {
            await deletePaymentState(options.store, hold);
            return challenge(micro, description, refusedMessage(error));
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

/**
 * The network a credential's challenge was issued for: its method and chain, then the token and
 * recipient it names (mppx then checks the challenge is ours and matches that network's price).
 */
function serverFor(servers: NetworkServer[], challenge: Challenge.Challenge): NetworkServer {
  const request = challenge.request as { methodDetails?: { chainId?: unknown }; currency?: unknown; recipient?: unknown };
  const chainId = request.methodDetails?.chainId;
  const same = (a: string | undefined, b: unknown) => typeof b === "string" && a?.toLowerCase() === b.toLowerCase();
  const candidates = servers.filter((s) => s.network.method === challenge.method && (chainId === undefined || s.network.chainId === chainId));
  const server =
    candidates.find((s) => same(s.network.currency, request.currency) && same(s.network.recipient, request.recipient)) ??
    candidates.find((s) => same(s.network.currency, request.currency)) ??
    candidates[0];
  if (!server) throw new Error(`no configured network takes ${challenge.method} payments on chain ${String(chainId)}`);
  return server;
}

type Common = { secretKey: string; realm: string; requiresAuth: boolean };
type NetworkConfig = NonNullable<MppConfig["networks"]>[string];

/** What every network needs: a recipient, an RPC that answers with the configured chain id. */
async function checkNetwork(at: string, net: NetworkConfig): Promise<{ rpcUrl: string; chainId: number; recipient: `0x${string}` }> {
  if (!net.rpc_url) throw new PaymentConfigError(`${at}.rpc_url is required: payments are verified on chain`);
  if (!net.recipient || !isAddress(net.recipient))
    throw new PaymentConfigError(`${at}.recipient must be the 0x address that receives payments; got '${net.recipient ?? ""}'`);
  if (net.currency !== undefined && !isAddress(net.currency))
    throw new PaymentConfigError(`${at}.currency must be a token's 0x address; got '${net.currency}'`);
  if (net.fee_payer) throw new PaymentConfigError(`${at}.fee_payer: true is not supported yet (it needs a server wallet to pay the callers' gas); remove it`);
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport: http(net.rpc_url) }).getChainId();
  } catch (error) {
    throw new PaymentConfigError(`${at}.rpc_url ${net.rpc_url} does not answer eth_chainId: ${firstLine(error)}`);
  }
  if (net.chain_id !== undefined && net.chain_id !== chainId)
    throw new PaymentConfigError(`${at}.chain_id is ${net.chain_id} but ${net.rpc_url} is chain ${chainId}`);
  return { rpcUrl: net.rpc_url, chainId, recipient: net.recipient };
}

async function tempoServer(
  name: string,
  net: NetworkConfig,
  common: Common,
  store: ReturnType<typeof databaseStore>,
  warnings: string[],
): Promise<NetworkServer> {
  const at = `mpp.networks.${name}`;
  if (net.decimals !== undefined && net.decimals !== TIP20_DECIMALS)
    throw new PaymentConfigError(`${at}.decimals must be ${TIP20_DECIMALS} (every TIP-20 token has ${TIP20_DECIMALS}) or left out`);
  const { rpcUrl, chainId, recipient } = await checkNetwork(at, net);
  if (net.escrow_contract !== undefined || net.default_deposit !== undefined) {
    warnings.push(`${at}.escrow_contract / default_deposit apply to payment sessions, which are not supported yet: each request is charged once, up front`);
  }
  const network: PaymentNetwork = {
    name,
    method: "tempo",
    chainId,
    rpcUrl,
    recipient,
    decimals: TIP20_DECIMALS,
    ...(net.currency ? { currency: net.currency as `0x${string}` } : {}),
  };
  // Tempo transactions (type 0x76) need the Tempo chain's serializers; the id and RPC are ours.
  const chain = { ...tempoLocalnet, id: chainId, rpcUrls: { default: { http: [rpcUrl] } } };
  const getClient = () => createClient({ chain, transport: http(rpcUrl) });
  const mppx = Mppx.create({
    ...common,
    methods: [
      tempo.charge({
        recipient,
        chainId,
        getClient,
        store,
        // Only signed transactions that BitRouter broadcasts ("pull"): money moves when the request
        // is answered, never for one that fails. (A "push" payer would have paid before asking.)
        supportedModes: ["pull"],
        ...(network.currency ? { currency: network.currency } : {}),
      }),
    ],
  });
  return { network, mppx };
}

const EIP3009_ABI = parseAbi([
  "function name() view returns (string)",
  "function version() view returns (string)",
  "function decimals() view returns (uint8)",
  "function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)",
]);

/**
 * An ERC-20 with EIP-3009 on any EVM chain (mppx's `evm` charge): the caller signs a
 * `transferWithAuthorization`; BitRouter (the settler account, paying gas) submits it once the
 * request is answered. The token's EIP-712 name and version are read from the token.
 */
async function evmServer(name: string, net: NetworkConfig, common: Common, settler: LocalAccount | undefined): Promise<NetworkServer> {
  const at = `mpp.networks.${name}`;
  if (!net.currency) throw new PaymentConfigError(`${at}.currency is required for method evm: the ERC-20 token's 0x address`);
  for (const field of ["escrow_contract", "default_deposit"] as const)
    if (net[field] !== undefined) throw new PaymentConfigError(`${at}.${field} applies to Tempo sessions only; remove it from an evm network`);
  const { rpcUrl, chainId, recipient } = await checkNetwork(at, net);
  if (!settler)
    throw new PaymentConfigError(
      `${at} (method evm) needs the operator wallet (the active bitrouter account) to submit the callers' signed transfers and pay their gas`,
    );
  const chain = defineChain({ id: chainId, name, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
  const client = createPublicClient({ chain, transport: http(rpcUrl) });
  const wallet = createWalletClient({ chain, account: settler, transport: http(rpcUrl) });
  const token = net.currency as `0x${string}`;
  let authorization: { name: string; version: string };
  let decimals: number;
  try {
    const [tokenName, version, onChainDecimals] = await Promise.all([
      client.readContract({ address: token, abi: EIP3009_ABI, functionName: "name" }),
      client.readContract({ address: token, abi: EIP3009_ABI, functionName: "version" }),
      net.decimals === undefined ? client.readContract({ address: token, abi: EIP3009_ABI, functionName: "decimals" }) : undefined,
    ]);
    authorization = { name: tokenName, version };
    decimals = net.decimals ?? Number(onChainDecimals);
  } catch (error) {
    throw new PaymentConfigError(
      `${at}.currency ${token} on chain ${chainId} does not answer name(), version() and decimals() (an EIP-3009 token such as USDC does): ${firstLine(error)}`,
    );
  }
  const network: PaymentNetwork = { name, method: "evm", chainId, rpcUrl, recipient, currency: token, decimals };
  const call = (credential: Credential.Credential) => {
    const p = credential.payload as {
      from: `0x${string}`;
      to: `0x${string}`;
      value: string;
      validAfter: string;
      validBefore: string;
      nonce: `0x${string}`;
      signature: `0x${string}`;
    };
    return {
      address: token,
      abi: EIP3009_ABI,
      functionName: "transferWithAuthorization",
      args: [p.from, p.to, BigInt(p.value), BigInt(p.validAfter), BigInt(p.validBefore), p.nonce, p.signature],
    } as const;
  };
  const mppx = Mppx.create({
    ...common,
    methods: [
      evm.charge({
        recipient,
        chainId,
        currency: token,
        decimals,
        authorization,
        async settle({ credential }) {
          const hash = await wallet.writeContract(call(credential));
          const receipt = await client.waitForTransactionReceipt({ hash });
          if (receipt.status !== "success") throw new Error(`the transfer ${hash} reverted`);
          return { reference: hash };
        },
      }),
    ],
  });
  return {
    network,
    mppx: mppx as unknown as NetworkServer["mppx"],
    async simulate(credential) {
      try {
        await client.simulateContract({ ...call(credential), account: settler });
      } catch (error) {
        throw new Error(`the signed transfer would fail: ${firstLine(error)}`);
      }
    },
  };
}

const NO_CREDENTIAL = "payment required: pay the challenge in WWW-Authenticate and retry with the credential in Authorization: Payment";
const REFUSED = "payment credential refused";

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
}

/** mppx's reason for refusing a credential, for the caller. */
function refusedMessage(error: unknown): string {
  const reason = error instanceof Error ? ((error as { reason?: unknown }).reason ?? error.message) : String(error);
  return `${REFUSED}: ${typeof reason === "string" ? reason : String(reason)}`;
}

/** When the credential's signed transaction stops being valid (epoch ms), if it says. */
function settleBy(credential: Credential.Credential): number | undefined {
  const payload = credential.payload as { type?: unknown; signature?: unknown; validBefore?: unknown };
  // evm: the EIP-3009 authorization's own bound (mppx's client signs it until the challenge expires).
  if (payload.type === "authorization" && typeof payload.validBefore === "string") return Number(payload.validBefore) * 1000;
  if (payload.type !== "transaction" || typeof payload.signature !== "string") return undefined;
  try {
    const validBefore = Transaction.deserialize(payload.signature as `0x76${string}`).validBefore;
    return validBefore ? Number(validBefore) * 1000 : undefined;
  } catch {
    return undefined;
  }
}
