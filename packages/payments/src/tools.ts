import type { RequestPayment } from "@bitrouter/core";
import { Credential, Mcp, Receipt } from "mppx";
import type { PaymentGate, Refused } from "./gate.js";
import { SETTLE_MARGIN_MS } from "./hook.js";

/** A priced MCP tool call about to be made. */
export interface ToolPaymentRequest {
  /** The tool's name as the caller used it. */
  name: string;
  /** The most the call can cost, in integer micro-USD (the `tools:` pricing). */
  priceMicroUsd: number;
  /** The `tools/call` request's `_meta`, where an MCP payer puts its credential. */
  meta: Record<string, unknown> | undefined;
}

/** A tool call's payment, held until the tool answered. */
export interface ToolPayment {
  /** The tool answered: move the money and add the receipt to the result, or throw the JSON-RPC error. */
  settle<T extends { _meta?: Record<string, unknown> | undefined }>(result: T): Promise<T>;
  /** The call failed or the tool reported an error: give the credential up unpaid. */
  release(): void;
  /** Set once settled: what the ledger row records. */
  readonly paid: RequestPayment | undefined;
}

/**
 * The JSON-RPC error of the MCP binding of the Payment scheme (what mppx's MCP client answers):
 * -32042 with the challenges in `data` when no credential came, -32043 when one was refused.
 * The MCP SDK's server sends `code`, `message` and `data` of a thrown error as they are.
 */
export class ToolPaymentRequired extends Error {
  readonly code: number;
  readonly data: { httpStatus: number; challenges: unknown[]; problem?: { title: string; status: number; detail: string } };
  constructor(refusal: Refused) {
    super(refusal.message);
    this.code = refusal.refused ? Mcp.paymentVerificationFailedCode : Mcp.paymentRequiredCode;
    this.data = {
      httpStatus: refusal.status,
      challenges: refusal.challenges,
      ...(refusal.refused ? { problem: { title: "Payment verification failed", status: refusal.status, detail: refusal.message } } : {}),
    };
  }
}

/**
 * Charges MCP tool calls like model requests: the price is asked of the credential in
 * `_meta["org.paymentauth/credential"]` before the call (held, not settled), the transfer is
 * broadcast once the tool answered without `isError`, and the receipt goes back in the result's
 * `_meta["org.paymentauth/receipt"]`.
 */
export function toolPayments(gate: PaymentGate): (call: ToolPaymentRequest) => Promise<ToolPayment> {
  return async (call) => {
    const sent = call.meta?.[Mcp.credentialMetaKey];
    let credential: string | undefined;
    try {
      credential = sent === undefined ? undefined : Credential.serialize(sent as Credential.Credential);
    } catch {
      credential = "Payment malformed"; // refused below, with a fresh challenge
    }
    const outcome = await gate.authorize(credential, BigInt(call.priceMicroUsd), { description: `tool ${call.name}` });
    if (!("authorized" in outcome)) throw new ToolPaymentRequired(outcome);
    let paid: RequestPayment | undefined;
    const settle = async () => {
      clearTimeout(timer);
      const settled = await outcome.settle();
      if (settled.paid) paid = { amount: settled.amount.toString(), method: settled.method, reference: settled.reference };
      return settled;
    };
    // As for model requests (see paymentsHook): a call slower than the signed transfer's validity
    // is settled before it expires, and charged even if it then fails.
    const timer =
      outcome.settleBy === undefined
        ? undefined
        : setTimeout(() => void settle().catch(() => {}), Math.max(0, outcome.settleBy - SETTLE_MARGIN_MS - Date.now()));
    timer?.unref();
    return {
      get paid() {
        return paid;
      },
      async settle(result) {
        const settled = await settle();
        if (!settled.paid) throw new ToolPaymentRequired(settled);
        const receipt = { ...Receipt.deserialize(settled.receipt), challengeId: outcome.challengeId };
        return { ...result, _meta: { ...result._meta, [Mcp.receiptMetaKey]: receipt } };
      },
      release() {
        clearTimeout(timer);
        void outcome.release().catch(() => {});
      },
    };
  };
}
