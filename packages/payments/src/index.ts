export { evmAccount } from "./account.js";
export { findPaymentCredential } from "./credential.js";
export { type ChargeOutcome, type PaymentGate, type PaymentNetwork, PaymentConfigError, createPaymentGate } from "./gate.js";
export { PaymentRequiredError, type RequestPayment, paymentsHook, requestPayment } from "./hook.js";
export { quoteCeiling } from "./quote.js";
export { databaseStore } from "./store.js";
export { type UpstreamPayment, createUpstreamPayer } from "./upstream.js";
export { createSiwxSigner } from "./siwx.js";
