/**
 * The bearer token a BitRouter sends to an upstream with `auth: {type: wallet}`: an `api`-scope key
 * signed by the operator account, which another BitRouter whose operator is (or trusts) that account
 * accepts. Signing costs, so one token is minted and reused until it is close to expiry.
 */
import type { Account } from "./accounts.js";
import { mintToken } from "./token.js";

export interface TokenSupplierOptions {
  /** How long each token lives (its `exp`). Default 3,600 s. */
  lifetimeSeconds?: number;
  /** A token with less than this left is replaced. Default 300 s. */
  renewBeforeSeconds?: number;
  /** Clock in epoch milliseconds (tests). Default Date.now. */
  now?: () => number;
}

/**
 * A function that resolves to a valid token, minting one only when the cached one is close to
 * expiry (concurrent callers share one signing).
 */
export function tokenSupplier(account: Account, options: TokenSupplierOptions = {}): () => Promise<string> {
  const lifetime = options.lifetimeSeconds ?? 3600;
  const renewBefore = options.renewBeforeSeconds ?? 300;
  const now = options.now ?? Date.now;
  let current: { token: Promise<string>; renewAt: number } | undefined;
  return () => {
    const at = now();
    if (!current || at >= current.renewAt) {
      const exp = Math.floor(at / 1000) + lifetime;
      const token = mintToken(account, { scope: "api", exp }, { now: at });
      const minted = { token, renewAt: (exp - renewBefore) * 1000 };
      current = minted;
      // A failed signing is not cached: the next request tries again.
      token.catch(() => {
        if (current === minted) current = undefined;
      });
    }
    return current.token;
  };
}
