import type { Account } from "@bitrouter/auth";
import type { ResolvedConfig } from "@bitrouter/config";
import { findModel } from "@bitrouter/config";
import type { UpstreamPayment } from "@bitrouter/payments";
import type { UpstreamPayer } from "@bitrouter/providers";
import type { RouterHook } from "@bitrouter/core";
import type { ToolCallHooks } from "@bitrouter/mcp";
import { paidPerRequest } from "@bitrouter/router";
import type { Store } from "@bitrouter/store";
import type { Logger } from "./logger.js";
import { importOptional } from "./optional.js";

/**
 * @bitrouter/payments (mppx, viem, @solana/kit: tens of MB) is an optional peer dependency, loaded
 * only by a config that uses it; `field` is what asked for it, for the error when it is missing.
 */
export function loadPayments(field: string): Promise<typeof import("@bitrouter/payments")> {
  return importOptional("@bitrouter/payments", () => import("@bitrouter/payments"), field);
}

/** Holds a payment for one priced MCP tool call (see ToolCallHooks.pay in @bitrouter/mcp). */
export type ToolPayments = NonNullable<ToolCallHooks["pay"]>;

/**
 * The payments hook when `mpp.enabled` is true (callers pay per request over HTTP 402), and the
 * same gate for priced MCP tool calls. The package is imported only then: mppx and viem are heavy,
 * and most servers never load them. An `evm` network is settled by the operator's active account
 * (it submits the callers' signed transfers and pays their gas).
 */
export async function paymentHooks(
  config: ResolvedConfig,
  deps: { store: Store | undefined; requiresAuth: boolean; logger: Logger; keysDir?: string | undefined },
): Promise<{ hooks: RouterHook[]; tools?: ToolPayments }> {
  if (!config.mpp?.enabled) return { hooks: [] };
  if (!deps.store) throw new Error("mpp.enabled needs a database: used payment credentials are remembered there (set database.url)");
  const { createPaymentGate, evmAccount, paymentsHook, toolPayments } = await loadPayments("mpp.enabled");
  const needsSettler = Object.values(config.mpp.networks ?? {}).some((network) => network.method === "evm");
  const settler = needsSettler ? await operatorAccount(deps.keysDir).then((account) => account && evmAccount(account.evmPrivateKey)) : undefined;
  const gate = await createPaymentGate({ config: config.mpp, store: deps.store, requiresAuth: deps.requiresAuth, ...(settler ? { settler } : {}) });
  for (const warning of gate.warnings) deps.logger.warn(warning);
  for (const { name, method, chainId, recipient, currency } of gate.networks)
    deps.logger.info("payments: callers pay per request", { network: name, method, chain_id: chainId, recipient, ...(currency ? { currency } : {}) });
  const pay = toolPayments(gate);
  return {
    hooks: [paymentsHook(gate, (provider, modelId) => findModel(config, provider, modelId))],
    tools: (call) => pay({ name: call.name, priceMicroUsd: call.priceMicroUsd, meta: call.meta }),
  };
}

/**
 * The operator's active account, unlocked (OWS_PASSPHRASE when encrypted); undefined without one.
 * A keystore that does not unlock is an error naming the account.
 */
async function operatorAccount(keysDir: string | undefined): Promise<Account | undefined> {
  if (!keysDir) return undefined;
  const { getActiveAccount, unlockAccount } = await import("@bitrouter/auth");
  const active = await getActiveAccount(keysDir);
  if (!active) return undefined;
  try {
    return await unlockAccount(keysDir, active.index, process.env.OWS_PASSPHRASE);
  } catch (error) {
    throw new Error(`the wallet account ${active.prefix} cannot be unlocked (OWS_PASSPHRASE): ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Who settles the 402 answers of providers with `auth: {type: mpp}` (pays them) or
 * `{type: custom, method: siwx}` (signs in): the operator's active account (`bitrouter account`,
 * unlocked with OWS_PASSPHRASE when encrypted). Payments go through `wallet.payment.tempo_rpc_url`,
 * at most `wallet.payment.session_max_deposit` base units each. A provider without a usable wallet
 * is unavailable (its requests would go out unpaid), and the log says why.
 */
export async function upstreamPayer(
  config: ResolvedConfig,
  deps: { keysDir: string | undefined; logger: Logger; store: Store | undefined },
): Promise<((provider: string) => UpstreamPayer | undefined) | undefined> {
  const { store, logger } = deps;
  const providers = Object.entries(config.providers).filter(([, provider]) => paidPerRequest(provider.auth));
  const first = providers[0];
  if (!first) return undefined;
  const unavailable = (names: string[], why: string) =>
    logger.warn(`providers that answer 402 until paid (auth: mpp / siwx) are unavailable: ${why}`, { providers: names.join(", ") });
  // The wallet library (and its crypto) loads only for a paid provider: a server without one stays light.
  const { getActiveAccount, unlockAccount } = await import("@bitrouter/auth");
  const active = deps.keysDir ? await getActiveAccount(deps.keysDir) : undefined;
  if (!deps.keysDir || !active) {
    unavailable(
      providers.map(([name]) => name),
      "no active account to pay from (bitrouter account -g)",
    );
    return undefined;
  }
  let account: Account;
  try {
    account = await unlockAccount(deps.keysDir, active.index, process.env.OWS_PASSPHRASE);
  } catch (error) {
    unavailable(
      providers.map(([name]) => name),
      `the wallet account ${active.prefix} cannot be unlocked: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
  const { createSiwxSigner, createUpstreamPayer, evmAccount } = await loadPayments(`providers.${first[0]}.auth`);
  const evm = evmAccount(account.evmPrivateKey);
  // The store's queries load only with a database (see openMetering).
  const queries = store ? await import("@bitrouter/store") : undefined;
  const rpcUrl = config.wallet?.payment?.tempo_rpc_url;
  const max = config.wallet?.payment?.session_max_deposit;
  const payers = new Map<string, UpstreamPayer>();
  for (const [provider, { auth }] of providers) {
    if (auth.type === "custom") {
      // An EVM chain id (default 1), or a CAIP-2 id such as solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp.
      const chainId = auth.params?.chain_id ?? 1;
      const chain =
        typeof chainId === "number" && Number.isSafeInteger(chainId) && chainId > 0
          ? `eip155:${chainId}`
          : typeof chainId === "string" && /^(eip155:\d+|solana:[1-9A-HJ-NP-Za-km-z]{32,44})$/.test(chainId)
            ? chainId
            : undefined;
      if (!chain) {
        unavailable(
          [provider],
          `providers.${provider}.auth.params.chain_id must be an EVM chain id (e.g. 1) or a CAIP-2 id (eip155:<id>, solana:<genesis hash>)`,
        );
        continue;
      }
      payers.set(provider, createSiwxSigner({ account: { evm, solana: { address: account.solanaAddress, keyPair: account.solana } }, chain }));
      continue;
    }
    if (!rpcUrl || max === undefined) {
      unavailable(
        [provider],
        "set wallet.payment.tempo_rpc_url (the chain to pay on) and wallet.payment.session_max_deposit (the most one payment may cost, in base units)",
      );
      continue;
    }
    const onPaid = (payment: UpstreamPayment) => {
      logger.info("paid an upstream", { provider, ...payment });
      if (!store || !queries) return;
      // Never blocks the request; a failed write is reported, the payment itself stands.
      queries
        .recordWalletPayment(store, { ...payment, provider, createdAt: Date.now(), chainId: payment.chainId ?? null })
        .catch((error: unknown) => logger.error("could not record an upstream payment", { provider, reference: payment.reference, error: String(error) }));
    };
    payers.set(provider, createUpstreamPayer({ account: evm, rpcUrl, maxAmount: BigInt(max), onPaid }));
  }
  if (payers.size > 0)
    logger.info("upstream payments: the wallet pays and signs in", { address: account.evmAddress, providers: [...payers.keys()].join(", ") });
  return (provider) => payers.get(provider);
}

/**
 * The bearer tokens of providers with `auth: {type: wallet}`: `api`-scope keys signed by the
 * operator's active account (unlocked with OWS_PASSPHRASE when encrypted), each living an hour and
 * reused until five minutes before it expires. Another BitRouter whose operator account is this one
 * accepts them. Without a usable account such providers are unavailable, and the log says why.
 */
export async function walletTokens(
  config: ResolvedConfig,
  deps: {
    keysDir: string | undefined;
    logger: Logger;
    /** The previous generation's suppliers by account address: a reload keeps the token (and MCP upstreams their connection). */
    suppliers?: Map<string, () => Promise<string>>;
  },
): Promise<((provider: string) => (() => Promise<string>) | undefined) | undefined> {
  const names = Object.entries(config.providers)
    .filter(([, provider]) => provider.auth.type === "wallet")
    .map(([name]) => name);
  if (names.length === 0) return undefined;
  const unavailable = (why: string) =>
    deps.logger.warn(`providers that authenticate with the wallet (auth: wallet) are unavailable: ${why}`, { providers: names.join(", ") });
  // The wallet library (and its crypto) loads only for such a provider: a server without one stays light.
  const { getActiveAccount, tokenSupplier, unlockAccount } = await import("@bitrouter/auth");
  const active = deps.keysDir ? await getActiveAccount(deps.keysDir) : undefined;
  if (!deps.keysDir || !active) {
    unavailable("no active account to sign their tokens (bitrouter account -g)");
    return undefined;
  }
  let account: Account;
  try {
    account = await unlockAccount(deps.keysDir, active.index, process.env.OWS_PASSPHRASE);
  } catch (error) {
    unavailable(`the wallet account ${active.prefix} cannot be unlocked: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  // One token for every such provider: the same account signs it, and one signing serves them all.
  let supplier = deps.suppliers?.get(account.solanaAddress);
  if (!supplier) {
    supplier = tokenSupplier(account);
    deps.suppliers?.clear(); // another account now: the old one's token is not sent any more
    deps.suppliers?.set(account.solanaAddress, supplier);
  }
  deps.logger.info("wallet auth: upstream requests carry tokens signed by the operator account", { account: account.prefix, providers: names.join(", ") });
  const wallet = new Set(names);
  return (provider) => (wallet.has(provider) ? supplier : undefined);
}
