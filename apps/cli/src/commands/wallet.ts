// `bitrouter wallet`: the operator's wallet (the active account's EVM address, which pays upstreams
// with `auth: {type: mpp}` and settles callers' `evm` payments) and its token balance on every
// configured network. Asks the chains directly over JSON-RPC (a plain `eth_call`, no chain library
// loaded); no server needed.
import type { ResolvedConfig } from "@bitrouter/config";
import { getActiveAccount } from "@bitrouter/auth";
import { Command, Option } from "clipanion";
import { CliError } from "../base.js";
import { AuthCommand, keysDirOf } from "./account.js";

/** pathUSD, the default TIP-20 token of Tempo chains. */
const PATH_USD = "0x20c0000000000000000000000000000000000000";
/** Every TIP-20 token has 6 decimals; an evm network's token says its own. */
const TIP20_DECIMALS = 6;

interface Network {
  /** Where it is configured, e.g. `wallet.payment.tempo_rpc_url`. */
  source: string;
  rpcUrl: string;
  token: string;
  /** The token's decimals when configured (TIP-20: always 6); else asked of the token. */
  decimals?: number;
  /** An evm network: the wallet submits callers' payments there and pays the gas, in the chain's native coin. */
  paysGas?: boolean;
}

interface Balance extends Network {
  /** Base units as a decimal string, or undefined when the chain did not answer. */
  balance?: string;
  error?: string;
  /** The native coin's balance in wei, as a decimal string (evm networks). */
  gas?: string;
}

/** ERC-20 selectors: `balanceOf(address)`, `decimals()`. */
const BALANCE_OF = "0x70a08231";
const DECIMALS = "0x313ce567";

export class WalletCommand extends AuthCommand {
  static override paths = [["wallet"]];
  static override usage = Command.Usage({
    description: "Show the operator wallet and its balances",
    details:
      "The wallet is the active account (`bitrouter account`): its EVM address pays upstreams configured with `auth: {type: mpp}` and submits callers' payments on `method: evm` networks (paying their gas). Balances are read from wallet.payment.tempo_rpc_url and each mpp.networks entry, in that network's token; an evm network also shows the gas (native coin) balance. Payment channels are not listed: payment sessions are not supported yet.",
    examples: [
      ["Address and balances", "bitrouter wallet"],
      ["As JSON", "bitrouter wallet --json"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const { config, paths } = await this.loadConfig({ scaffold: false });
    const active = await getActiveAccount(keysDirOf(paths));
    if (!active) throw new CliError("no active account: the wallet is the active account (create one with `bitrouter account -g`)");
    const balances = await Promise.all(networksOf(config).map((network) => balanceOn(network, active.evmAddress)));
    if (this.json) {
      this.context.stdout.write(`${JSON.stringify({ address: active.evmAddress, account: active.prefix, balances, channels: [] }, null, 2)}\n`);
      return 0;
    }
    const out = [`Wallet ${active.evmAddress} (account ${active.prefix})`];
    if (balances.length === 0) out.push("No network configured: set wallet.payment.tempo_rpc_url (or mpp.networks)");
    for (const b of balances) {
      const amount =
        b.balance === undefined
          ? `unavailable (${b.error})`
          : `${formatUnits(BigInt(b.balance), b.decimals ?? TIP20_DECIMALS)} (token ${b.token})${b.gas === undefined ? "" : `, gas ${formatUnits(BigInt(b.gas), 18)}`}`;
      out.push(`  ${b.source}  ${b.rpcUrl}  ${amount}`);
    }
    out.push("Channels: none (payment sessions are not supported yet)");
    this.context.stdout.write(`${out.join("\n")}\n`);
    return balances.some((b) => b.balance === undefined) ? 1 : 0;
  }
}

function networksOf(config: ResolvedConfig): Network[] {
  const networks: Network[] = [];
  const walletRpc = config.wallet?.payment?.tempo_rpc_url;
  if (walletRpc) networks.push({ source: "wallet.payment.tempo_rpc_url", rpcUrl: walletRpc, token: PATH_USD, decimals: TIP20_DECIMALS });
  for (const [name, network] of Object.entries(config.mpp?.networks ?? {})) {
    if (!network.rpc_url) continue;
    const source = `mpp.networks.${name}`;
    if (network.method === "evm") {
      // An evm network names its token (the server refuses one that does not); its decimals are the token's.
      if (network.currency)
        networks.push({
          source,
          rpcUrl: network.rpc_url,
          token: network.currency,
          paysGas: true,
          ...(network.decimals === undefined ? {} : { decimals: network.decimals }),
        });
    } else networks.push({ source, rpcUrl: network.rpc_url, token: network.currency ?? PATH_USD, decimals: TIP20_DECIMALS });
  }
  return networks;
}

/** The token's `balanceOf(owner)` (and `decimals()` when not configured) through bare JSON-RPC `eth_call`s. */
async function balanceOn(network: Network, owner: string): Promise<Balance> {
  try {
    const [balance, decimals, gas] = await Promise.all([
      ethCall(network, `${BALANCE_OF}${owner.slice(2).toLowerCase().padStart(64, "0")}`),
      network.decimals ?? ethCall(network, DECIMALS).then(Number),
      network.paysGas ? rpc(network, "eth_getBalance", [owner, "latest"]) : undefined,
    ]);
    return { ...network, decimals, balance: balance.toString(), ...(gas === undefined ? {} : { gas: gas.toString() }) };
  } catch (error) {
    return { ...network, error: error instanceof Error ? error.message : String(error) };
  }
}

function ethCall(network: Network, data: string): Promise<bigint> {
  return rpc(network, "eth_call", [{ to: network.token, data }, "latest"]);
}

/** A JSON-RPC call whose answer is a hex quantity. */
async function rpc(network: Network, method: string, params: unknown[]): Promise<bigint> {
  const response = await fetch(network.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { result?: string; error?: { message?: string } };
  if (typeof body.result !== "string" || !/^0x[0-9a-f]*$/i.test(body.result)) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return BigInt(body.result === "0x" ? 0 : body.result);
}

/** 1234567 base units at 6 decimals -> "1.234567". */
function formatUnits(value: bigint, decimals: number): string {
  const scale = 10n ** BigInt(decimals);
  const fraction = (value % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return fraction ? `${value / scale}.${fraction}` : `${value / scale}`;
}
