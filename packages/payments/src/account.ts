import type { LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** The viem account of an operator account's secp256k1 key (`Account.evmPrivateKey` of @bitrouter/auth). */
export function evmAccount(privateKey: `0x${string}`): LocalAccount {
  return privateKeyToAccount(privateKey);
}
