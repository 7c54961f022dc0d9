import { getActiveAccount, unlockAccount } from "@bitrouter/auth";
import type { ResolvedConfig } from "@bitrouter/config";
import { findModel } from "@bitrouter/config";
import type { RequestPayment } from "@bitrouter/payments";
import type { UpstreamPayer } from "@bitrouter/providers";
import type { RequestContext, RouterHook } from "@bitrouter/router";
import type { Store } from "@bitrouter/store";
import { recordWalletPayment } from "@bitrouter/store";
import type { Logger } from "./logger.js";

/**
 * The payments hook when `mpp.enabled` is true (callers pay per request over HTTP 402). The
 * package is imported only then: mppx and viem are heavy, and most servers never load them.
 */
export async function paymentHooks(config: ResolvedConfig, deps: { store: Store | undefined; requiresAuth: boolean; logger: Logger }): Promise<RouterHook[]> {
  if (!config.mpp?.enabled) return [];
  if (!deps.store) throw new Error("mpp.enabled needs a database: used payment credentials are remembered there (set database.url)");
  const { createPaymentGate, paymentsHook } = await import("@bitrouter/payments");
  const gate = await createPaymentGate({ config: config.mpp, store: deps.store, requiresAuth: deps.requiresAuth });
  for (const warning of gate.warnings) deps.logger.warn(warning);
  const { name, chainId, recipient } = gate.network;
  deps.logger.info("payments: callers pay per request", { network: name, chain_id: chainId, recipient });
  return [paymentsHook(gate, (provider, modelId) => findModel(config, provider, modelId))];
}

/** What a request paid, for its ledger row (the payments hook keeps it under its own name). */
export function requestPayment(ctx: Pick<RequestContext, "state">): RequestPayment | undefined {
  return ctx.state.get("payments") as RequestPayment | undefined;
}

/**
 * Who pays the 402 answers of providers with `auth: {type: mpp}`: the operator's active account
 * (`bitrouter account`, unlocked with OWS_PASSPHRASE when encrypted), on `wallet.payment.tempo_rpc_url`,
 * at most `wallet.payment.session_max_deposit` base units per payment. Without a usable wallet those
 * providers are unavailable (their requests would go out unpaid), and the log says why.
 */
export async function upstreamPayer(
  config: ResolvedConfig,
  deps: { keysDir: string | undefined; logger: Logger; store: Store | undefined },
): Promise<((provider: string) => UpstreamPayer | undefined) | undefined> {
  const paid = Object.entries(config.providers)
    .filter(([, provider]) => provider.auth.type === "mpp")
    .map(([name]) => name);
  if (paid.length === 0) return undefined;
  const rpcUrl = config.wallet?.payment?.tempo_rpc_url;
  const max = config.wallet?.payment?.session_max_deposit;
  const unavailable = (why: string) => {
    deps.logger.warn(`providers paid per request (auth: mpp) are unavailable: ${why}`, { providers: paid.join(", ") });
    return undefined;
  };
  if (!rpcUrl) return unavailable("set wallet.payment.tempo_rpc_url (the chain to pay on)");
  if (max === undefined) return unavailable("set wallet.payment.session_max_deposit (the most one payment may cost, in base units)");
  const active = deps.keysDir ? await getActiveAccount(deps.keysDir) : undefined;
  if (!deps.keysDir || !active) return unavailable("no active account to pay from (bitrouter account create)");
  let account;
  try {
    account = await unlockAccount(deps.keysDir, active.index, process.env.OWS_PASSPHRASE);
  } catch (error) {
    return unavailable(`the wallet account ${active.prefix} cannot be unlocked: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { createUpstreamPayer } = await import("@bitrouter/payments");
  const { store, logger } = deps;
  // One payer per provider, so each payment's row names who was paid.
  const payers = new Map(
    paid.map((provider) => [
      provider,
      createUpstreamPayer({
        account: account.evm,
        rpcUrl,
        maxAmount: BigInt(max),
        onPaid: (payment) => {
          logger.info("paid an upstream", { provider, ...payment });
          if (!store) return;
          const row = { ...payment, provider, createdAt: Date.now(), chainId: payment.chainId ?? null };
          // Never blocks the request; a failed write is reported, the payment itself stands.
          recordWalletPayment(store, row).catch((error: unknown) => logger.error("could not record an upstream payment", { provider, reference: payment.reference, error: String(error) }));
        },
      }),
    ]),
  );
  logger.info("upstream payments: paying from the wallet", { address: account.evmAddress, providers: paid.join(", ") });
  return (provider) => payers.get(provider);
}
