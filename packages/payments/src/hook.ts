import type { ModelInfo } from "@bitrouter/config";
import type { CanonicalRequest } from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import type { RequestContext, RouterHook } from "@bitrouter/core";
import type { PaymentGate } from "./gate.js";
import { quoteCeiling } from "./quote.js";

/** What a paid request charged; kept in `ctx.state` under the hook's name for the ledger. */
export interface RequestPayment {
  /** Base units of the token, as a decimal integer string. */
  amount: string;
  /** e.g. `tempo/charge`. */
  method: string;
  /** On-chain reference: the transaction hash. */
  reference: string;
}

const NAME = "payments";

/** The payment a request made, if any (for the ledger row). */
export function requestPayment(ctx: Pick<RequestContext, "state">): RequestPayment | undefined {
  return ctx.state.get(NAME) as RequestPayment | undefined;
}

/**
 * Charges callers per request over HTTP 402: before the first dispatch, the request's price
 * (see quoteCeiling) is asked of the caller's credential; without a valid one the caller gets the
 * challenge (402, `WWW-Authenticate: Payment …`) in its own protocol's error shape. A paid answer
 * carries `Payment-Receipt` and `Cache-Control: private`. Failover does not charge twice.
 */
export function paymentsHook(gate: PaymentGate, findModel: (provider: string, modelId: string) => ModelInfo | undefined): RouterHook {
  return {
    name: NAME,
    inspectsContent: true,
    async beforeDispatch(ctx: RequestContext, request: CanonicalRequest) {
      if (ctx.state.has(NAME) || !ctx.target) return;
      const { provider, modelId } = ctx.target;
      const amount = quoteCeiling(request, findModel(provider, modelId), gate.network.decimals, ctx.model);
      const outcome = await gate.charge(ctx.headers, amount, { description: `${ctx.model} (${provider}:${modelId})`, stream: ctx.stream });
      if (!outcome.paid) throw new PaymentRequiredError(outcome.message, outcome.status, outcome.headers);
      const payment: RequestPayment = { amount: amount.toString(), method: outcome.method, reference: outcome.reference };
      ctx.state.set(NAME, payment);
      ctx.responseHeaders = { ...ctx.responseHeaders, "payment-receipt": outcome.receipt, "cache-control": ctx.stream ? "no-cache, private" : "private" };
    },
  };
}

/** A 402 (or the status mppx chose) with the challenge headers the caller must answer. */
export class PaymentRequiredError extends BitrouterError {
  readonly headers: Record<string, string>;
  constructor(message: string, status: number, headers: Record<string, string>) {
    super({ kind: "payment_required", status, message, code: "payment_required" });
    this.headers = headers;
  }
}
