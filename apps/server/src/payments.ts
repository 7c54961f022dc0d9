import type { ResolvedConfig } from "@bitrouter/config";
import { findModel } from "@bitrouter/config";
import type { RequestPayment } from "@bitrouter/payments";
import type { RequestContext, RouterHook } from "@bitrouter/router";
import type { Store } from "@bitrouter/store";
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
