// `bitrouter wallet` against a real local Tempo chain (Anvil): the active account's address and its
// pathUSD balance on each configured network; an unreachable network is reported, exit 1.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployTestToken, type LocalChain, PATH_USD, startEvmChain, startTempoChain } from "@bitrouter/testkit";
import { bitrouterAsync, generateAccount, newHome } from "./auth-helpers.js";

let chain: LocalChain;
let evmChain: LocalChain;
beforeAll(async () => {
  [chain, evmChain] = await Promise.all([startTempoChain(), startEvmChain()]);
});
afterAll(async () => {
  await Promise.all([chain?.close(), evmChain?.close()]);
});

function writeConfig(home: string, yaml: string): void {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "bitrouter.yaml"), yaml);
}

describe("bitrouter wallet", () => {
  it("shows the active account's address and its balance on every configured network", async () => {
    const home = newHome();
    const account = await generateAccount(home);
    await chain.transfer(chain.freshAccount().address, PATH_USD, account.evmAddress, 1_234_567n);
    writeConfig(
      home,
      `wallet:\n  payment:\n    tempo_rpc_url: ${chain.rpcUrl}\nmpp:\n  networks:\n    tempo: { rpc_url: "${chain.rpcUrl}", recipient: "${account.evmAddress}" }\n    down: { rpc_url: "http://127.0.0.1:9" }\n`,
    );
    const run = await bitrouterAsync(home, ["wallet"]);
    expect(run.stdout).toContain(`Wallet ${account.evmAddress} (account ${account.prefix})`);
    expect(run.stdout).toContain(`wallet.payment.tempo_rpc_url  ${chain.rpcUrl}  1.234567 (token ${PATH_USD})`);
    expect(run.stdout).toContain(`mpp.networks.tempo  ${chain.rpcUrl}  1.234567`);
    expect(run.stdout).toMatch(/mpp\.networks\.down {2}http:\/\/127\.0\.0\.1:9 {2}unavailable \(/);
    expect(run.code).toBe(1);

    const json = await bitrouterAsync(home, ["wallet", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      address: account.evmAddress,
      balances: [{ source: "wallet.payment.tempo_rpc_url", balance: "1234567" }, { balance: "1234567" }, { source: "mpp.networks.down" }],
      channels: [],
    });
  });

  it("two networks, tempo and evm: each balance in its own token and decimals", async () => {
    const home = newHome();
    const account = await generateAccount(home);
    await chain.transfer(chain.freshAccount().address, PATH_USD, account.evmAddress, 2_500_000n);
    const deployer = evmChain.freshAccount().address;
    const token = await deployTestToken(evmChain, { from: deployer, name: "Test USD 18", decimals: 18, supply: 10n ** 24n });
    await evmChain.transfer(deployer, token, account.evmAddress, 1_500_000_000_000_000_000n);
    // The gas the wallet pays when it submits callers' evm payments: 0.25 of the native coin.
    await evmChain.rpc("anvil_setBalance", [account.evmAddress, "0x3782dace9d90000"]);
    writeConfig(
      home,
      `mpp:\n  networks:\n    tempo: { rpc_url: "${chain.rpcUrl}", recipient: "${account.evmAddress}" }\n    local-evm: { method: evm, rpc_url: "${evmChain.rpcUrl}", recipient: "${account.evmAddress}", currency: "${token}" }\n`,
    );
    const run = await bitrouterAsync(home, ["wallet"]);
    expect(run.stdout).toContain(`mpp.networks.tempo  ${chain.rpcUrl}  2.5 (token ${PATH_USD})`);
    // 18 decimals, read from the token.
    expect(run.stdout).toContain(`mpp.networks.local-evm  ${evmChain.rpcUrl}  1.5 (token ${token}), gas 0.25`);
    expect(run.code).toBe(0);
  });

  it("without an account: a one-line error", async () => {
    const home = newHome();
    writeConfig(home, "{}\n");
    const run = await bitrouterAsync(home, ["wallet"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no active account");
  });
});
