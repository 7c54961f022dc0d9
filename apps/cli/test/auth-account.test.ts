import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createAccount, listAccounts } from "@bitrouter/auth";
import { describe, expect, it } from "vitest";
import { bitrouter, generateAccount, keysDir, newHome } from "./auth-helpers.js";

const mode = (path: string) => statSync(path).mode & 0o777;

describe("bitrouter account -g", () => {
  it("creates an account under <home>/.keys (0700, files 0600); the first one is active; no passphrase is said", async () => {
    const home = newHome();
    const run = bitrouter(home, ["account", "-g", "--label", "main"]);
    expect(run.code).toBe(0);
    const [account, ...others] = await listAccounts(keysDir(home));
    expect(others).toEqual([]);
    expect(account).toMatchObject({ index: 0, label: "main", active: true, encrypted: false });
    expect(account!.prefix).toBe(account!.solanaAddress.slice(0, 8));
    expect(run.stdout).toContain(`Account 0: ${account!.prefix} (main) [active]`);
    expect(run.stdout).toContain(`Solana address  ${account!.solanaAddress}`);
    expect(run.stdout).toContain(`EVM address     ${account!.evmAddress}`);
    expect(run.stderr).toContain("No passphrase: the key is stored unencrypted, readable by this user only (set OWS_PASSPHRASE");

    expect(mode(keysDir(home))).toBe(0o700);
    expect(mode(account!.file)).toBe(0o600);
    expect(mode(join(keysDir(home), "active"))).toBe(0o600);
    // The scaffolded home keeps the keystore out of version control.
    expect(readFileSync(join(home, ".gitignore"), "utf8")).toContain(".keys/");

    // A second account is not made active.
    const second = bitrouter(home, ["account", "-g"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("Not active: `bitrouter account --set 1`");
    expect((await listAccounts(keysDir(home))).map((a) => a.active)).toEqual([true, false]);
  });

  it("with OWS_PASSPHRASE the seed is encrypted, and the passphrase is in no file and no output", async () => {
    const home = newHome();
    const passphrase = "correct horse battery staple";
    const run = bitrouter(home, ["account", "-g"], { OWS_PASSPHRASE: passphrase });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("(encrypted)");
    expect(run.stderr).not.toContain("unencrypted");
    const [account] = await listAccounts(keysDir(home));
    const file = JSON.parse(readFileSync(account!.file, "utf8"));
    expect(file.seed).toBeUndefined();
    expect(file.encrypted).toMatchObject({ kdf: "scrypt", cipher: "aes-256-gcm" });
    expect(readFileSync(account!.file, "utf8")).not.toContain(passphrase);
    expect(run.stdout + run.stderr).not.toContain(passphrase);
    expect(bitrouter(home, ["account", "-l"]).stdout).toMatch(/encrypted$/m);
  });
});

describe("bitrouter account -l / --set", () => {
  it("lists index, label, pubkey prefix, both addresses and the active marker; --json", async () => {
    const home = newHome();
    expect(bitrouter(home, ["account", "-l"]).stdout).toBe("No accounts. Create one with `bitrouter account -g`.\n");
    const first = await generateAccount(home, {}, "main");
    bitrouter(home, ["account", "-g"]);
    const second = (await listAccounts(keysDir(home)))[1]!;

    const run = bitrouter(home, ["account", "-l"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^\s+#\s+PREFIX\s+LABEL\s+SOLANA ADDRESS\s+EVM ADDRESS\s+KEY$/);
    expect(lines[1]).toMatch(new RegExp(`^\\*\\s+0\\s+${first.prefix}\\s+main\\s+${first.solanaAddress}\\s+${first.evmAddress}\\s+plain$`));
    expect(lines[2]).toMatch(new RegExp(`^\\s+1\\s+${second.prefix}\\s+${second.solanaAddress}\\s+${second.evmAddress}\\s+plain$`));
    // Bare `account` lists too.
    expect(bitrouter(home, ["account"]).stdout).toBe(run.stdout);

    const json = JSON.parse(bitrouter(home, ["account", "-l", "--json"]).stdout);
    expect(json.keys_dir).toBe(keysDir(home));
    expect(json.accounts).toEqual([
      {
        index: 0,
        label: "main",
        prefix: first.prefix,
        solana_address: first.solanaAddress,
        evm_address: first.evmAddress,
        encrypted: false,
        active: true,
        created_at: first.createdAt,
      },
      {
        index: 1,
        label: null,
        prefix: second.prefix,
        solana_address: second.solanaAddress,
        evm_address: second.evmAddress,
        encrypted: false,
        active: false,
        created_at: second.createdAt,
      },
    ]);
  });

  it("--set chooses by index, by pubkey prefix and by EVM prefix; an unknown one fails with the choices", async () => {
    const home = newHome();
    const first = await generateAccount(home);
    bitrouter(home, ["account", "-g"]);
    const second = (await listAccounts(keysDir(home)))[1]!;
    const active = async () => (await listAccounts(keysDir(home))).find((a) => a.active)?.solanaAddress;

    const byIndex = bitrouter(home, ["account", "--set", "1"]);
    expect(byIndex.code).toBe(0);
    expect(byIndex.stdout).toContain(`Account 1: ${second.prefix} [active]`);
    expect(await active()).toBe(second.solanaAddress);

    expect(bitrouter(home, ["account", "--set", first.prefix]).code).toBe(0);
    expect(await active()).toBe(first.solanaAddress);

    expect(bitrouter(home, ["account", "--set", second.evmAddress.slice(0, 12).toLowerCase()]).code).toBe(0);
    expect(await active()).toBe(second.solanaAddress);

    // Not an index, and no Solana (base58) or EVM (hex) address can start with it: random
    // addresses would otherwise match a prefix such as "7" now and then.
    const unknown = bitrouter(home, ["account", "--set", "0OIl"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no account matches "0OIl"');
    expect(unknown.stderr).toContain(first.solanaAddress);
    expect(await active()).toBe(second.solanaAddress);
  });

  it("an ambiguous prefix is a usage error (exit 2) listing the matching accounts, and changes nothing", async () => {
    const home = newHome();
    await generateAccount(home);
    // Add accounts until two Solana addresses share a first character that is not a digit (a digit
    // could be read as an index).
    let shared: string | undefined;
    while (shared === undefined) {
      await createAccount(keysDir(home));
      const firsts = (await listAccounts(keysDir(home))).map((a) => a.solanaAddress[0]!);
      shared = firsts.find((c, i) => !/\d/.test(c) && firsts.indexOf(c) !== i);
    }
    const accounts = await listAccounts(keysDir(home));
    const matching = accounts.filter((a) => a.solanaAddress.startsWith(shared!));
    const before = accounts.find((a) => a.active)!.solanaAddress;

    const run = bitrouter(home, ["account", "--set", shared]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--set: "${shared}" matches ${matching.length} accounts; use a longer prefix or the index`);
    for (const a of matching) expect(run.stderr).toContain(a.solanaAddress);
    expect((await listAccounts(keysDir(home))).find((a) => a.active)!.solanaAddress).toBe(before);
  });

  it("combining actions, or --label without -g, is a usage error", () => {
    const home = newHome();
    const both = bitrouter(home, ["account", "-g", "-l"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("-g and -l cannot be combined");
    const label = bitrouter(home, ["account", "-l", "--label", "x"]);
    expect(label.code).toBe(2);
    expect(label.stderr).toContain("--label goes with -g");
  });
});
