// A local Tempo chain for payment tests: Anvil from the `@foundry-rs/anvil` npm package (it ships
// the binary) in Tempo mode, so TIP-20 tokens (pathUSD at 0x20c0…0000) and Tempo transactions
// (type 0x76) are real, and its dev accounts hold pathUSD.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";

export interface LocalChain {
  /** http://127.0.0.1:<port> */
  readonly rpcUrl: string;
  readonly chainId: number;
  /** JSON-RPC call; throws the node's error message. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /**
   * A funded dev account no payment has used yet. Anvil 1.7.1 drops a second "expiring nonce"
   * Tempo transaction from the same sender (the tx never lands, the send never returns), and the
   * mppx client pays with expiring nonces only: so one account per payment.
   */
  freshAccount(): { address: `0x${string}`; privateKey: `0x${string}` };
  /** A TIP-20 `transfer` sent by a dev account (Anvil signs for it); resolves once it is mined. */
  transfer(from: string, token: string, to: string, amount: bigint): Promise<void>;
  /** TIP-20 `balanceOf`, in base units. */
  balanceOf(token: string, owner: string): Promise<bigint>;
  close(): Promise<void>;
}

/** pathUSD, the TIP-20 stablecoin every Tempo chain has (6 decimals). */
export const PATH_USD = "0x20c0000000000000000000000000000000000000";

/** Dev accounts Anvil creates (and funds with ETH and pathUSD). */
const ACCOUNTS = 100;

/** Options of a local chain: `chainId` to stand in for a public chain (e.g. 42431, Tempo's testnet). */
export interface LocalChainOptions {
  chainId?: number;
}

/** Starts Anvil on a free loopback port with Tempo features; resolves once it answers. */
export function startTempoChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  return startAnvil(["--network", "tempo", ...chainIdArgs(options)]);
}

/** Starts a plain Ethereum Anvil (dev accounts hold ETH only; tests deploy their own tokens). */
export function startEvmChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  return startAnvil(chainIdArgs(options));
}

const chainIdArgs = (options: LocalChainOptions) => (options.chainId === undefined ? [] : ["--chain-id", String(options.chainId)]);

async function startAnvil(network: string[]): Promise<LocalChain> {
  const bin = createRequire(import.meta.url).resolve("@foundry-rs/anvil/bin.mjs");
  // Tempo transactions carry a validity window checked against the block time: start the chain
  // at the wall clock (Anvil's Tempo genesis is at timestamp 1 otherwise).
  const args = [...network, "--host", "127.0.0.1", "--port", "0", "--accounts", String(ACCOUNTS), "--timestamp", String(Math.floor(Date.now() / 1000))];
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (!match) return;
      // From here on its log only costs memory.
      child.stdout!.off("data", onData).resume();
      child.stderr!.off("data", onData).resume();
      resolve(Number(match[1]));
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`anvil exited (${code}) before listening: ${output.slice(-500)}`)));
    child.once("error", reject);
  });
  const rpcUrl = `http://127.0.0.1:${port}`;
  // Anvil prints "(i) 0x<address> (… ETH)" and then "(i) 0x<private key>" for each dev account.
  const addresses = [...output.matchAll(/^\((\d+)\) (0x[0-9a-fA-F]{40}) /gm)].map((m) => m[2] as `0x${string}`);
  const keys = [...output.matchAll(/^\((\d+)\) (0x[0-9a-f]{64})$/gm)].map((m) => m[2] as `0x${string}`);
  if (addresses.length !== ACCOUNTS || keys.length !== ACCOUNTS)
    throw new Error(`anvil listed ${addresses.length} accounts and ${keys.length} keys, expected ${ACCOUNTS}`);
  let used = 0;
  let id = 0;
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  };
  // `eth_call` on the genesis block still sees timestamp 1; one mined block carries the real time.
  await rpc("evm_mine");
  const chainId = Number(await rpc<string>("eth_chainId"));
  return {
    rpcUrl,
    chainId,
    rpc,
    freshAccount() {
      if (used >= ACCOUNTS) throw new Error(`all ${ACCOUNTS} dev accounts have paid once already`);
      const index = used++;
      return { address: addresses[index]!, privateKey: keys[index]! };
    },
    async transfer(from, token, to, amount) {
      const data = `0xa9059cbb${to.slice(2).toLowerCase().padStart(64, "0")}${amount.toString(16).padStart(64, "0")}`;
      const hash = await rpc<string>("eth_sendTransaction", [{ from, to: token, data }]);
      // The hash comes back before the state is readable: wait for the receipt.
      for (let attempt = 0; attempt < 200; attempt++) {
        const receipt = await rpc<{ status: string } | null>("eth_getTransactionReceipt", [hash]);
        if (receipt) {
          if (receipt.status !== "0x1") throw new Error(`transfer ${hash} reverted`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`transfer ${hash} was not mined`);
    },
    async balanceOf(token, owner) {
      const data = `0x70a08231${owner.slice(2).toLowerCase().padStart(64, "0")}`;
      return BigInt(await rpc<string>("eth_call", [{ to: token, data }, "latest"]));
    },
    close: () => stop(child),
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
