export { evmAccount } from "./account.js";
export { findPaymentCredential } from "./credential.js";
export {
  type Authorization,
  type ChargeOutcome,
  type PaymentGate,
  type PaymentNetwork,
  PaymentConfigError,
  type Refused,
  type Settled,
  createPaymentGate,
} from "./gate.js";
export { PaymentRequiredError, paymentsHook } from "./hook.js";
export { microUsdToUnits, quoteCeiling } from "./quote.js";
export { databaseStore } from "./store.js";
export { type UpstreamPayment, createUpstreamPayer } from "./upstream.js";
export { createSiwxSigner } from "./siwx.js";
export { type ToolPayment, type ToolPaymentRequest, ToolPaymentRequired, toolPayments } from "./tools.js";
