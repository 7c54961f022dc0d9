export { AuthError, type AuthErrorKind } from "./errors.js";
export { BASE_CHAIN, CHAINS, type Alg, type ChainName, SOLANA_CHAIN, canonicalIssuer, issuersOf, parseCaip10, type Issuer } from "./caip.js";
export {
  type Account,
  type AccountInfo,
  accountFromSeed,
  createAccount,
  findAccount,
  getActiveAccount,
  listAccounts,
  removeAccount,
  setActiveAccount,
  unlockAccount,
} from "./accounts.js";
export {
  type BudgetRange,
  type BudgetScope,
  type MintClaims,
  type RevocationCheck,
  type Scope,
  type TokenClaims,
  TrustedIssuers,
  type VerifyOptions,
  decodeToken,
  mintToken,
  verifyToken,
} from "./token.js";
export {
  expiryToExp,
  globMatch,
  matchesModel,
  matchesTool,
  parseBudget,
  parseBudgetRange,
  parseBudgetScope,
  parseExpiry,
  parsePatterns,
  parseScope,
} from "./parse.js";
export { type SavedTokenInfo, getSavedToken, listTokens, removeToken, saveToken, showToken, tokenFingerprint } from "./saved-tokens.js";
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthenticatorStats,
  type VerifiedPrincipal,
  type Revocation,
  type RevocationSource,
  type SpendQuery,
  type SpendSource,
  createAuthenticator,
} from "./authenticator.js";
export { type TokenSupplierOptions, tokenSupplier } from "./token-supplier.js";
export { isLoopbackAddress } from "./net.js";
