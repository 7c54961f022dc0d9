// The set-up every payment test shares: the chains, the tokens, who is paid, funded payers and a
// database for the payment state, started together and stopped by one close().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalChain, startEvmChain, startTempoChain } from "./anvil.js";
import { deployTestToken } from "./token.js";

/** An EIP-3009 test token to deploy (TestUSD): its EIP-712 domain is `{ name, version: "1" }`. */
export interface TestTokenSpec {
  name: string;
  decimals: number;
}

/** A dev account with its key, to sign payments with. */
export interface DevAccount {
  address: `0x${string}`;
  privateKey: `0x${string}`;
}

export interface PaymentChains {
  /** The local Tempo chain; its dev accounts hold pathUSD (`PATH_USD`). */
  readonly tempo: LocalChain;
  /** Who is paid: the same dev account on both chains, never handed out by `freshAccount()`. */
  readonly recipient: `0x${string}`;
  /** `sqlite://…` in a temporary directory, for the payment state (used credentials); close() removes it. */
  readonly databaseUrl: string;
  close(): Promise<void>;
}

export interface EvmTokens<K extends string> {
  /** A plain EVM chain (Anvil) holding the tokens. */
  readonly chain: LocalChain;
  /** Deployed the tokens and holds what is left of their supply. */
  readonly deployer: `0x${string}`;
  /** Each token's address (lower case), by the key it was asked under. */
  readonly tokens: Record<K, `0x${string}`>;
  /** A fresh dev account holding `amount` base units of `token` (sent by the deployer). */
  fund(token: `0x${string}`, amount: bigint): Promise<DevAccount>;
}

/** Chain ids for the local chains to answer, to stand in for public ones (e.g. 42431, Tempo's testnet; 8453, Base). */
export interface PaymentChainsOptions {
  chainIds?: { tempo?: number; evm?: number };
}

/** Each token's whole supply: 10^9 tokens, whatever its decimals. */
const SUPPLY_TOKENS = 10n ** 9n;

/**
 * Starts the local Tempo chain and, when `tokens` are asked for, a plain EVM chain with those
 * EIP-3009 tokens deployed (as `evm`): the chains start together.
 */
export function startPaymentChains(): Promise<PaymentChains>;
export function startPaymentChains<K extends string>(
  tokens: Record<K, TestTokenSpec>,
  options?: PaymentChainsOptions,
): Promise<PaymentChains & { evm: EvmTokens<K> }>;
export async function startPaymentChains<K extends string>(
  tokens?: Record<K, TestTokenSpec>,
  options: PaymentChainsOptions = {},
): Promise<PaymentChains & { evm?: EvmTokens<K> }> {
  const { tempo: tempoId, evm: evmId } = options.chainIds ?? {};
  const starting = [
    startTempoChain(tempoId === undefined ? {} : { chainId: tempoId }),
    tokens ? startEvmChain(evmId === undefined ? {} : { chainId: evmId }) : Promise.resolve(undefined),
  ] as const;
  const [tempo, evmChain] = await Promise.all(starting).catch(async (error: unknown) => {
    // The chain that did start is stopped, not left running after the test.
    await Promise.all(
      starting.map((chain) =>
        chain.then(
          (started) => started?.close(),
          () => {},
        ),
      ),
    );
    throw error;
  });
  const dir = mkdtempSync(join(tmpdir(), "bitrouter-pay-"));
  const close = async () => {
    await Promise.all([tempo.close(), evmChain?.close()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const recipient = tempo.freshAccount().address;
    const chains = { tempo, recipient, databaseUrl: `sqlite://${join(dir, "state.db")}?mode=rwc`, close };
    if (!tokens || !evmChain) return chains;
    // Anvil's dev accounts are the same on both chains: the recipient's is used up there too.
    evmChain.freshAccount();
    const deployer = evmChain.freshAccount().address;
    const addresses = {} as Record<K, `0x${string}`>;
    for (const [key, { name, decimals }] of Object.entries(tokens) as [K, TestTokenSpec][])
      addresses[key] = await deployTestToken(evmChain, { from: deployer, name, decimals, supply: SUPPLY_TOKENS * 10n ** BigInt(decimals) });
    const fund = async (token: `0x${string}`, amount: bigint) => {
      const payer = evmChain.freshAccount();
      await evmChain.transfer(deployer, token, payer.address, amount);
      return payer;
    };
    return { ...chains, evm: { chain: evmChain, deployer, tokens: addresses, fund } };
  } catch (error) {
    await close();
    throw error;
  }
}
