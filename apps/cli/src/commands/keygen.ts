// `bitrouter keygen`: mint an API key (a JWT signed by the active account). The token alone goes to
// stdout, so `TOKEN=$(bitrouter keygen ...)` works; everything else goes to stderr.
import {
  type ChainName,
  type MintClaims,
  type SavedTokenInfo,
  decodeToken,
  expiryToExp,
  getActiveAccount,
  listAccounts,
  listTokens,
  mintToken,
  parseBudget,
  parseBudgetRange,
  parseBudgetScope,
  parsePatterns,
  parseScope,
  saveToken,
  unlockAccount,
} from "@bitrouter/auth";
import { resolvePaths } from "@bitrouter/config";
import { Command, Option, UsageError } from "clipanion";
import { isoSeconds } from "./keys.js";
import { AuthCommand, PASSPHRASE_ENV, asUsage, flagValue, keysDirOf, readPassphrase } from "./account.js";

/** `--exp` when not given: long enough for day-to-day use, short enough that a leaked key dies. */
export const DEFAULT_EXPIRY = "30d";

export class KeygenCommand extends AuthCommand {
  static override paths = [["keygen"]];
  static override usage = Command.Usage({
    description: "Create an API key (a JWT signed by the active account)",
    details: `
      Prints the token alone on stdout; notes (key id, expiry, where it was saved) go to stderr. Every key gets a fresh random id (its \`id\` claim), which \`bitrouter keys --revoke\` takes.

      \`--exp\` defaults to ${DEFAULT_EXPIRY}. \`--models\` / \`--tools\` are comma-separated patterns where \`*\` matches anything (including \`:\` and \`/\`); without them every model / tool is allowed. \`--budget\` is in micro-USD (1 USD = 1000000); \`--budget-scope\` counts the spend of this key (session, the default) or of every key of the account; \`--budget-range\` limits it to the last N requests or seconds.

      An encrypted account is unlocked with \`${PASSPHRASE_ENV}\` or a hidden prompt on a terminal.
    `,
    examples: [
      ["A key for OpenAI models and Claude, valid 30 days", `$0 keygen --scope api --exp 30d --models "openai:*,anthropic:claude-*"`],
      ["Into a variable", "TOKEN=$($0 keygen --exp 1h)"],
      ["A $5 budget over the last hour, saved as 'ci'", "$0 keygen --budget 5000000 --budget-range duration:3600s --name ci"],
      ["An admin key signed on Base", "$0 keygen --chain base --scope admin --exp 1h"],
    ],
  });

  chain = Option.String("--chain", "solana", { description: "Signing chain: solana (default) or base" });
  scope = Option.String("--scope", "api", { description: "Token scope: api (default) or admin" });
  exp = Option.String("--exp", DEFAULT_EXPIRY, { description: `Expiration: 5m, 1h, 30d, never (default ${DEFAULT_EXPIRY})` });
  models = Option.String("--models", { description: 'Comma-separated model patterns, e.g. "openai:*,anthropic:claude-*"' });
  tools = Option.String("--tools", { description: 'Comma-separated tool patterns, e.g. "github/*,jira/search"' });
  budget = Option.String("--budget", { description: "Budget limit in micro-USD" });
  budgetScope = Option.String("--budget-scope", { description: "session (this key, default) or account (every key of the account)" });
  budgetRange = Option.String("--budget-range", { description: "Budget window, e.g. rounds:10 or duration:3600s (default: all time)" });
  name = Option.String("--name", { description: "Save the token locally under this label (see `bitrouter keys`)" });

  /** Every flag checked before the keystore is touched: a typo costs no passphrase prompt. */
  private claims(now: number): { chain: ChainName; claims: MintClaims } {
    if (this.chain !== "solana" && this.chain !== "base") throw new UsageError(`--chain: "${this.chain}" is not solana or base`);
    const claims: MintClaims = { scope: flagValue(() => parseScope(this.scope)) };
    const exp = flagValue(() => expiryToExp(this.exp, now));
    if (exp !== undefined) claims.exp = exp;
    if (this.models !== undefined) claims.models = flagValue(() => parsePatterns(this.models!, "--models"));
    if (this.tools !== undefined) claims.tools = flagValue(() => parsePatterns(this.tools!, "--tools"));
    if (this.budget !== undefined) claims.budget = flagValue(() => parseBudget(this.budget!));
    if (this.budgetScope !== undefined) claims.budget_scope = flagValue(() => parseBudgetScope(this.budgetScope!));
    if (this.budgetRange !== undefined) claims.budget_range = flagValue(() => parseBudgetRange(this.budgetRange!));
    if (claims.budget === undefined && (claims.budget_scope !== undefined || claims.budget_range !== undefined)) {
      throw new UsageError(`${this.budgetScope !== undefined ? "--budget-scope" : "--budget-range"} needs --budget`);
    }
    if (this.name !== undefined && this.name.trim() === "") throw new UsageError("--name: the name is empty");
    return { chain: this.chain, claims };
  }

  async run(): Promise<number> {
    const now = Date.now();
    const { chain, claims } = this.claims(now);
    const keysDir = keysDirOf(resolvePaths(this.flags(), this.context.env, this.cwd()));
    const active = await getActiveAccount(keysDir);
    if (!active) {
      const hasAccounts = (await listAccounts(keysDir)).length > 0;
      this.context.stderr.write(
        hasAccounts
          ? "Error: no active account: choose one with `bitrouter account --set <index>` (see `bitrouter account -l`)\n"
          : `Error: no account in ${keysDir} to sign with: run \`bitrouter account -g\` first\n`,
      );
      return 1;
    }
    if (this.name !== undefined && (await listTokens(keysDir)).some((t) => t.name === this.name)) {
      throw new UsageError(`--name: a saved token is already named "${this.name}": remove it (\`bitrouter keys --rm ${this.name}\`) or pick another name`);
    }
    let passphrase: string | undefined;
    if (active.encrypted) {
      passphrase = await readPassphrase(this.context, `Passphrase for account ${active.prefix}:`);
      if (passphrase === undefined) {
        this.context.stderr.write(`Error: account ${active.prefix} is encrypted: set ${PASSPHRASE_ENV} or run in a terminal to be asked for the passphrase\n`);
        return 1;
      }
    }
    const account = await unlockAccount(keysDir, active.solanaAddress, passphrase);
    const token = await mintToken(account, claims, { chain, now });
    let saved: SavedTokenInfo | undefined;
    if (this.name !== undefined) {
      try {
        saved = await saveToken(keysDir, this.name, token);
      } catch (error) {
        throw asUsage(error, "--name"); // a name already used by another saved key
      }
    }

    const { id } = decodeToken(token);
    await this.recordKey(token);
    const expiry = claims.exp === undefined ? "never expires" : `expires ${isoSeconds(claims.exp)}`;
    this.context.stderr.write(
      `Key ${id}: scope ${claims.scope}, ${expiry}, signed on ${chain} by account ${active.index} (${active.prefix})` +
        `${saved ? `; saved as "${saved.name}"` : ""}\n`,
    );
    this.context.stdout.write(`${token}\n`);
    return 0;
  }
  /**
   * The database's keys table lists every key minted here, so `keys --revoke` knows the id before
   * any request used it. Best effort: minting works without a database, and says what it costs.
   */
  private async recordKey(token: string): Promise<void> {
    const claims = decodeToken(token);
    try {
      const { paths } = await this.loadConfig({ scaffold: false });
      const { openStore, saveKey } = await import("@bitrouter/store");
      const store = await openStore(paths.databaseUrl, { baseDir: paths.home });
      try {
        await saveKey(store, {
          id: claims.id,
          accountId: claims.iss,
          scope: claims.scope,
          name: this.name ?? null,
          models: claims.models ?? null,
          tools: claims.tools ?? null,
          budgetMicroUsd: claims.budget ?? null,
          budgetScope: claims.budget_scope ?? null,
          budgetRange:
            claims.budget_range === undefined
              ? null
              : claims.budget_range.type === "rounds"
                ? `rounds:${claims.budget_range.count}`
                : `duration:${claims.budget_range.seconds}s`,
          expiresAt: claims.exp === undefined ? null : claims.exp * 1000,
        });
      } finally {
        await store.close();
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      this.context.stderr.write(`warning: key ${claims.id} is not recorded in the database (${reason}); \`keys --revoke\` will need --force for it\n`);
    }
  }
}
