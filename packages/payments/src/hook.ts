import type { ModelInfo } from "@bitrouter/config";
import type { CanonicalRequest } from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import type { RequestContext, RouterHook } from "@bitrouter/core";
import type { Authorization, ChargeOutcome, PaymentGate } from "./gate.js";
import { findPaymentCredential } from "./credential.js";
import { quoteCeiling } from "./quote.js";

const NAME = "payments";

/** A request's payment: held (authorized) until its answer exists, then settled (`ctx.payment`). */
interface HookState {
  authorization: Authorization;
  timer?: ReturnType<typeof setTimeout>;
}

/** Settle this long before the signed payment expires (a broadcast takes a block or two). */
export const SETTLE_MARGIN_MS = 5_000;

/**
 * Charges callers per request over HTTP 402. Before the first dispatch, the request's price (see
 * quoteCeiling) is asked of the caller's credential: without a valid one the caller gets the
 * challenge (402, `WWW-Authenticate: Payment …`) in its own protocol's error shape, and nothing goes
 * upstream. A valid one is only held; it is settled (the transfer broadcast) when the answer exists
 * (beforeCommit: a complete response, or a stream's first content event), so a request that fails
 * on every upstream costs the caller nothing. A paid answer carries `Payment-Receipt` and
 * `Cache-Control: private`; what moved is `ctx.payment` (the ledger row records it). Failover does
 * not charge twice.
 */
export function paymentsHook(gate: PaymentGate, findModel: (provider: string, modelId: string) => ModelInfo | undefined): RouterHook {
  return {
    name: NAME,
    inspectsContent: true,
    async beforeDispatch(ctx: RequestContext, request: CanonicalRequest) {
      if (ctx.state.has(NAME) || !ctx.target) return;
      const { provider, modelId } = ctx.target;
      const price = quoteCeiling(request, findModel(provider, modelId), ctx.model);
      const outcome = await gate.authorize(findPaymentCredential(ctx.headers), price, { description: `${ctx.model} (${provider}:${modelId})` });
      if (!("authorized" in outcome)) throw new PaymentRequiredError(outcome.message, outcome.status, outcome.headers);
      const state: HookState = { authorization: outcome };
      ctx.state.set(NAME, state);
      // The signed payment expires (mppx's client signs for 25 s): an answer slower than that is
      // settled before it does, and charged even if the request then fails (the ledger says so).
      if (outcome.settleBy !== undefined) {
        state.timer = setTimeout(() => void settle(ctx, state).catch(() => {}), Math.max(0, outcome.settleBy - SETTLE_MARGIN_MS - Date.now()));
        state.timer.unref();
      }
    },
    async beforeCommit(ctx: RequestContext) {
      const state = ctx.state.get(NAME) as HookState | undefined;
      if (!state) return;
      const outcome = await settle(ctx, state);
      if (!outcome.paid) throw new PaymentRequiredError(outcome.message, outcome.status, outcome.headers);
      ctx.responseHeaders = { ...ctx.responseHeaders, "payment-receipt": outcome.receipt, "cache-control": ctx.stream ? "no-cache, private" : "private" };
    },
    onComplete(_record, ctx) {
      const state = ctx.state.get(NAME) as HookState | undefined;
      if (!state) return;
      clearTimeout(state.timer);
      // Never answered: the credential is given up unpaid (it may be used again until it expires).
      if (!ctx.payment) void state.authorization.release().catch(() => {});
    },
  };
}

/** Settles the held payment (once: the gate memoizes it) and records what moved on the request. */
async function settle(ctx: RequestContext, state: HookState): Promise<ChargeOutcome> {
  clearTimeout(state.timer);
  const outcome = await state.authorization.settle();
  if (outcome.paid) ctx.payment = { amount: outcome.amount.toString(), method: outcome.method, reference: outcome.reference };
  return outcome;
}

/** A 402 (or the status mppx chose) with the challenge headers the caller must answer. */
export class PaymentRequiredError extends BitrouterError {
  readonly headers: Record<string, string>;
  constructor(message: string, status: number, headers: Record<string, string>) {
    super({ kind: "payment_required", status, message, code: "payment_required" });
    this.headers = headers;
  }
}
