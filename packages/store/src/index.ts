export { StoreError, type StoreErrorKind } from "./errors.js";
export { type DialectName, type ParsedDatabaseUrl, type SqliteMode, parseDatabaseUrl } from "./url.js";
export { type OpenStoreOptions, type Store, type StoreLogger, openStore, safeInteger } from "./store.js";
export type { AccountsTable, Database, KeyRevocationsTable, KeysTable, PaymentStateTable, RequestsTable, WalletPaymentsTable } from "./schema.js";
export { knownMigrations } from "./migrations.js";
export {
  type Ledger,
  type LedgerOptions,
  type LedgerRow,
  type LedgerStats,
  createLedger,
  replaySpill,
  toLedgerRow,
} from "./ledger.js";
export {
  type IntValue,
  pruneLedger,
  type Spend,
  type SpendQuery,
  type UsageGroupBy,
  type UsageQuery,
  type UsageRow,
  spend,
  usage,
} from "./usage.js";
export {
  type AccountInput,
  type AccountRecord,
  type KeyInput,
  type KeyRecord,
  type Revocation,
  deleteKey,
  getAccount,
  getKey,
  isRevoked,
  keyIdKnown,
  listAccounts,
  listKeys,
  listRevocations,
  revokeKey,
  saveAccount,
  saveKey,
} from "./keys.js";
export {
  type PaymentStateChange,
  type WalletPayment,
  deletePaymentState,
  getPaymentState,
  listWalletPayments,
  putPaymentState,
  recordWalletPayment,
  updatePaymentState,
} from "./payment-state.js";
