/**
 * Table types as the drivers return them. Integer columns that are BIGINT in SQL (epoch ms,
 * micro-USD) come back as JS numbers: every driver is configured to return a number when the value
 * is a safe integer (|n| <= 2^53 - 1), which epoch milliseconds and any real spend always are.
 */
export interface Database {
  requests: RequestsTable;
  accounts: AccountsTable;
  keys: KeysTable;
  key_revocations: KeyRevocationsTable;
  payment_state: PaymentStateTable;
  wallet_payments: WalletPaymentsTable;
}

/** The append-only request ledger: one row per request, never updated. */
export interface RequestsTable {
  /** Request id (primary key), made by the server. */
  id: string;
  /** The caller's own `x-request-id`, if it sent one (not unique: callers may repeat it). */
  client_request_id: string | null;
  /** Epoch milliseconds when the request arrived. */
  created_at: number;
  account_id: string | null;
  key_id: string | null;
  inbound_protocol: string;
  route: string;
  provider: string | null;
  model: string;
  /** BOOLEAN on PostgreSQL/MySQL, INTEGER 0/1 on SQLite (which has no boolean type). */
  stream: boolean | number;
  status: number;
  error_kind: string | null;
  latency_ms: number;
  ttfb_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  /** Integer micro-USD (1 USD = 1,000,000). Never a float. */
  cost_micro_usd: number | null;
  guardrail_violations: number;
  attempts: number;
  /** A tool call through the MCP gateway: `server/tool` (null for model requests). */
  tool: string | null;
  /** What the caller paid for this request (MPP), in the token's base units, as a decimal string. */
  payment_amount: string | null;
  /** `<network>:<method>/charge`, e.g. `tempo:tempo/charge` (the `mpp.networks` key and mppx method). */
  payment_method: string | null;
  /** The payment's on-chain reference: a transaction hash or a channel id. */
  payment_reference: string | null;
}

export interface AccountsTable {
  id: string;
  label: string | null;
  solana_address: string | null;
  evm_address: string | null;
  created_at: number;
}

export interface KeysTable {
  id: string;
  account_id: string;
  name: string | null;
  scope: string;
  /** JSON array of model patterns, or null for "any model". */
  models: string | null;
  /** JSON array of tool patterns, or null for "any tool". */
  tools: string | null;
  budget_micro_usd: number | null;
  budget_scope: string | null;
  budget_range: string | null;
  expires_at: number | null;
  created_at: number;
}

export interface KeyRevocationsTable {
  key_id: string;
  revoked_at: number;
  reason: string | null;
}

/** Kysely's migration bookkeeping tables (kept out of `Database` on purpose). */
export const MIGRATION_TABLE = "bitrouter_migration";
export const MIGRATION_LOCK_TABLE = "bitrouter_migration_lock";

/** Column widths, shared by the migrations and the row sanitisers (MySQL needs bounded VARCHARs). */
export const LIMITS = {
  id: 255,
  short: 255,
  reason: 1000,
  /** Decimal digits of an unsigned 256-bit integer (any token amount in base units). */
  amount: 78,
} as const;

/** Payment state (MPP sessions, replay markers): a JSON value per key with a compare-and-set version. */
export interface PaymentStateTable {
  key: string;
  /** JSON text. */
  value: string;
  /** Incremented by every write; a write names the version it read. */
  version: number;
  /** Epoch ms of the last write. */
  updated_at: number;
}

/** One payment the operator's wallet made to an upstream (provider `auth: {type: mpp}`). */
export interface WalletPaymentsTable {
  /** The transaction hash (primary key: a payment is recorded once). */
  reference: string;
  /** Epoch ms. */
  created_at: number;
  provider: string;
  url: string;
  /** Base units of the token, as a decimal string. */
  amount: string;
  /** e.g. `tempo/charge`. */
  method: string;
  chain_id: number | null;
}
