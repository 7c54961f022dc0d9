import { BASE_CHAIN, SOLANA_CHAIN, type AccountInfo, decodeToken, issuersOf, listAccounts, listTokens, verifyToken } from "@bitrouter/auth";
import { beforeAll, describe, expect, it } from "vitest";
import { bitrouter, generateAccount, headerOf, keysDir, newHome, tokenOf } from "./auth-helpers.js";

const DAY = 86_400;

describe("bitrouter keygen", () => {
  let home: string;
  let account: AccountInfo;
  beforeAll(async () => {
    home = newHome();
    account = await generateAccount(home);
  });

  it("prints the token alone on stdout; defaults: solana, api scope, 30 days, a fresh random id per key", async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = bitrouter(home, ["keygen"]);
    const token = tokenOf(run);
    const claims = await verifyToken(token, { trusted: issuersOf(account) });
    expect(headerOf(token)).toEqual({ alg: "SOL_EDDSA", typ: "JWT" });
    expect(claims.iss).toBe(`${SOLANA_CHAIN}:${account.solanaAddress}`);
    expect(claims.chain).toBe(SOLANA_CHAIN);
    expect(claims.scope).toBe("api");
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.exp! - claims.iat!).toBe(30 * DAY);
    // No restriction that was not asked for.
    for (const claim of ["models", "tools", "budget", "budget_scope", "budget_range"]) expect(claims).not.toHaveProperty(claim);
    expect(claims.id).toMatch(/^[0-9a-f-]{36}$/);
    // Notes go to stderr, with the key id (not the token).
    expect(run.stderr).toContain(`Key ${claims.id}: scope api, expires `);
    expect(run.stderr).toContain(`signed on solana by account 0 (${account.prefix})`);
    expect(run.stderr).not.toContain(token.split(".")[2]);

    const other = decodeToken(tokenOf(bitrouter(home, ["keygen"])));
    expect(other.id).not.toBe(claims.id);
  });

  it("puts every flag in the claims, signed on Base with EIP-191", async () => {
    const run = bitrouter(home, [
      "keygen",
      "--chain",
      "base",
      "--scope",
      "admin",
      "--exp",
      "1h",
      "--models",
      "openai:*, anthropic:claude-*",
      "--tools",
      "github/*,jira/search",
      "--budget",
      "2500000",
      "--budget-scope",
      "account",
      "--budget-range",
      "rounds:10",
    ]);
    const token = tokenOf(run);
    expect(headerOf(token)).toEqual({ alg: "EIP191K", typ: "JWT" });
    const claims = await verifyToken(token, { trusted: issuersOf(account) });
    expect(claims).toMatchObject({
      iss: `${BASE_CHAIN}:${account.evmAddress}`,
      chain: BASE_CHAIN,
      scope: "admin",
      models: ["openai:*", "anthropic:claude-*"],
      tools: ["github/*", "jira/search"],
      budget: 2_500_000,
      budget_scope: "account",
      budget_range: { type: "rounds", count: 10 },
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(run.stderr).toContain("signed on base");
  });

  it("--exp never / 5m, --budget-range duration, --budget-scope session", async () => {
    const never = await verifyToken(tokenOf(bitrouter(home, ["keygen", "--exp", "never", "--budget", "0", "--budget-range", "duration:3600s"])), {
      trusted: issuersOf(account),
    });
    expect(never).not.toHaveProperty("exp");
    expect(never).toMatchObject({ budget: 0, budget_range: { type: "duration", seconds: 3600 } });
    const run = bitrouter(home, ["keygen", "--exp", "5m", "--budget", "100", "--budget-scope", "session"]);
    const short = decodeToken(tokenOf(run));
    expect(short.exp! - short.iat!).toBe(300);
    expect(short.budget_scope).toBe("session");
    expect(bitrouter(home, ["keygen", "--exp", "never"]).stderr).toContain("never expires");
  });

  it("--name saves the token; a name already taken is a usage error and prints no token", async () => {
    const name = `ci-${Date.now()}`;
    const token = tokenOf(bitrouter(home, ["keygen", "--name", name, "--models", "openai:gpt-4o"]));
    const saved = (await listTokens(keysDir(home))).find((t) => t.name === name);
    expect(saved).toMatchObject({ id: decodeToken(token).id, models: ["openai:gpt-4o"] });

    const again = bitrouter(home, ["keygen", "--name", name]);
    expect(again.code).toBe(2);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain(`--name: a saved token is already named "${name}"`);
  });

  it.each([
    [["--chain", "ethereum"], '--chain: "ethereum" is not solana or base'],
    [["--scope", "root"], '--scope: "root" is not api or admin'],
    [["--exp", "30x"], '--exp: "30x" is not a positive duration'],
    [["--exp", "0m"], '--exp: "0m" is not a positive duration'],
    [["--models", " , "], "--models: no patterns given"],
    [["--tools", "github/* jira"], '--tools: pattern "github/* jira" contains whitespace'],
    [["--budget", "1.5"], '--budget: "1.5" is not a whole number of micro-USD'],
    [["--budget=-3"], '--budget: "-3" is not a whole number of micro-USD'],
    [["--budget", "-5"], '--budget: "-5" is not a whole number of micro-USD (0 or more'],
    [["--exp", "3"], '--exp: "3" has no unit: write 3s, 3m, 3h or 3d'],
    [["--budget", "10", "--budget-scope", "team"], '--budget-scope: "team" is not session or account'],
    [["--budget", "10", "--budget-range", "rounds:0"], '--budget-range: "rounds:0" is not rounds:<N> or duration:<N>s'],
    [["--budget", "10", "--budget-range", "weeks:2"], '--budget-range: "weeks:2"'],
    [["--budget-scope", "account"], "--budget-scope needs --budget"],
    [["--budget-range", "rounds:5"], "--budget-range needs --budget"],
    [["--name", " "], "--name: the name is empty"],
  ])("%j is a usage error naming the flag (exit 2, no token)", (args, message) => {
    const run = bitrouter(home, ["keygen", ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`Usage error: ${message}`);
  });

  it("signs with the account made active by --set", async () => {
    const local = newHome();
    const first = await generateAccount(local);
    bitrouter(local, ["account", "-g"]);
    const second = (await listAccounts(keysDir(local)))[1]!;
    expect(bitrouter(local, ["account", "--set", "1"]).code).toBe(0);
    const token = tokenOf(bitrouter(local, ["keygen"]));
    expect(decodeToken(token).iss).toBe(`${SOLANA_CHAIN}:${second.solanaAddress}`);
    await expect(verifyToken(token, { trusted: issuersOf(first) })).rejects.toMatchObject({ code: "untrusted_issuer" });
  });
});

describe("bitrouter keygen without a usable account", () => {
  it("no account: exit 1, tells to run `bitrouter account -g` first", () => {
    const run = bitrouter(newHome(), ["keygen"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("run `bitrouter account -g` first");
  });

  it("an encrypted account signs with OWS_PASSPHRASE, and refuses a wrong or missing passphrase", async () => {
    const home = newHome();
    const passphrase = "s3cret passphrase";
    const account = await generateAccount(home, { OWS_PASSPHRASE: passphrase });
    expect(account.encrypted).toBe(true);

    const ok = bitrouter(home, ["keygen"], { OWS_PASSPHRASE: passphrase });
    await expect(verifyToken(tokenOf(ok), { trusted: issuersOf(account) })).resolves.toMatchObject({ scope: "api" });

    const wrong = bitrouter(home, ["keygen"], { OWS_PASSPHRASE: "not it" });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe("");
    expect(wrong.stderr).toBe(`Error: wrong passphrase for account ${account.prefix}\n`);

    // Not a terminal and no OWS_PASSPHRASE: nothing to ask with.
    const missing = bitrouter(home, ["keygen"]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toContain(`account ${account.prefix} is encrypted: set OWS_PASSPHRASE or run in a terminal`);
    for (const run of [ok, wrong, missing]) expect(run.stdout + run.stderr).not.toContain(passphrase);
  });
});
