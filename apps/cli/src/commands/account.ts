// `bitrouter account -g | -l | --set`: the operator accounts whose signatures make API keys.
// Keys live in `<home>/.keys/` (0700, files 0600). Also the helpers `keygen` and `keys` share:
// where the keystore is, how a passphrase is obtained, and how library errors map to exit codes.
import { join } from "node:path";
import { AuthError, createAccount, listAccounts, setActiveAccount, type AccountInfo } from "@bitrouter/auth";
import type { ResolvedPaths } from "@bitrouter/config";
import { password } from "@inquirer/prompts";
import { Command, Option, UsageError } from "clipanion";
import { BitrouterCommand, EXIT_FAILURE } from "../base.js";
import { inspectDaemon } from "../daemon.js";
import { resolveHomePaths, scaffoldHome } from "../home.js";

/** The environment variable that holds the keystore passphrase. */
export const PASSPHRASE_ENV = "OWS_PASSPHRASE";

export function keysDirOf(paths: Pick<ResolvedPaths, "home">): string {
  return join(paths.home, ".keys");
}

/**
 * Runs a flag parser of @bitrouter/auth; its invalid-input errors (which name the flag and the
 * value) become usage errors, exit code 2.
 */
export function flagValue<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw asUsage(error);
  }
}

/** An invalid-input AuthError as a usage error (optionally prefixed with the flag); others as they are. */
export function asUsage(error: unknown, flag?: string): unknown {
  if (error instanceof AuthError && error.kind === "invalid_request") return new UsageError(flag === undefined ? error.message : `${flag}: ${error.message}`);
  return error;
}

/** At most one of the given actions; the name of the chosen one, or undefined for none. */
export function oneAction(actions: Record<string, boolean>): string | undefined {
  const chosen = Object.keys(actions).filter((name) => actions[name]);
  if (chosen.length > 1) throw new UsageError(`${chosen.join(" and ")} cannot be combined: choose one`);
  return chosen[0];
}

/** A failure at the passphrase prompt (mismatch, Ctrl+C): a plain message, exit 1. */
export class PromptError extends Error {
  override readonly name = "PromptError";
}

/** The base of account / keygen / keys: library and prompt errors are sentences, not stack traces. */
export abstract class AuthCommand extends BitrouterCommand {
  protected override report(error: unknown): number {
    if (error instanceof PromptError || (error instanceof AuthError && error.kind !== "invalid_request")) {
      this.context.stderr.write(`Error: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    return super.report(error);
  }
}

interface PromptIo {
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream;
  stderr: NodeJS.WritableStream;
}

function isTty(stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/**
 * The keystore passphrase: OWS_PASSPHRASE when set and not empty; else a hidden prompt when stdin
 * and stderr are a terminal (the prompt goes to stderr, so stdout stays clean for `$(...)`); else
 * undefined. `confirm` asks twice (new accounts); an empty answer there means "no passphrase".
 */
export async function readPassphrase(io: PromptIo, message: string, options: { confirm?: boolean } = {}): Promise<string | undefined> {
  const fromEnv = io.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!isTty(io.stdin) || !isTty(io.stderr)) return undefined;
  const context = { input: io.stdin, output: io.stderr, clearPromptOnDone: true };
  try {
    const first = await password({ message, mask: false }, context);
    if (first === "" || !options.confirm) return first === "" ? undefined : first;
    const second = await password({ message: "Repeat the passphrase:", mask: false }, context);
    if (second !== first) throw new PromptError("the passphrases do not match; nothing was changed");
    return first;
  } catch (error) {
    // Ctrl+C / Ctrl+D at the prompt.
    if (error instanceof Error && error.name === "ExitPromptError") throw new PromptError("cancelled at the passphrase prompt");
    throw error;
  }
}

/** An account as `account -l --json` prints it (public data only). */
export function accountJson(a: AccountInfo): Record<string, unknown> {
  return {
    index: a.index,
    label: a.label ?? null,
    prefix: a.prefix,
    solana_address: a.solanaAddress,
    evm_address: a.evmAddress,
    encrypted: a.encrypted,
    active: a.active,
    created_at: a.createdAt,
  };
}

export function renderAccounts(accounts: AccountInfo[]): string {
  if (accounts.length === 0) return "No accounts. Create one with `bitrouter account -g`.\n";
  const rows = [
    ["", "#", "PREFIX", "LABEL", "SOLANA ADDRESS", "EVM ADDRESS", "KEY"],
    ...accounts.map((a) => [a.active ? "*" : "", String(a.index), a.prefix, a.label ?? "", a.solanaAddress, a.evmAddress, a.encrypted ? "encrypted" : "plain"]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, col) => cell.padEnd(widths[col]!))
      .join("  ")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n(* = active: keygen signs with it, and the server trusts it)\n`;
}

function describeAccount(a: AccountInfo): string {
  return [
    `Account ${a.index}: ${a.prefix}${a.label === undefined ? "" : ` (${a.label})`}${a.active ? " [active]" : ""}`,
    `  Solana address  ${a.solanaAddress}`,
    `  EVM address     ${a.evmAddress}`,
    `  key file        ${a.file} (${a.encrypted ? "encrypted" : "not encrypted"})`,
  ].join("\n");
}

export class AccountCommand extends AuthCommand {
  static override paths = [["account"]];
  static override usage = Command.Usage({
    description: "Create, list and choose operator accounts (the keys that sign API keys)",
    details: `
      An account is one random seed giving a Solana (Ed25519) and an EVM (secp256k1) key; it is named by its pubkey prefix (the first 8 characters of its Solana address). Keys are stored in \`<home>/.keys/\` (directory 0700, files 0600). The first account becomes the active one: \`bitrouter keygen\` signs with it and \`bitrouter serve\` accepts the tokens it signs. A running server switches to a new active account (\`-g\` of the first one, \`--set\`) on \`bitrouter reload\`.

      The seed is encrypted when a passphrase is given: from \`${PASSPHRASE_ENV}\`, or a hidden prompt when run in a terminal (an empty answer stores it unencrypted). Without either, the key is stored unencrypted, protected by file permissions only.

      \`--set\` takes an index (from \`-l\`), a label, a prefix of the Solana address or a 0x prefix of the EVM address. Without an action, \`account\` lists.
    `,
    examples: [
      ["Generate an account", "$0 account -g --label main"],
      ["List accounts", "$0 account -l"],
      ["Make account 1 the active one", "$0 account --set 1"],
      ["Choose by pubkey prefix", "$0 account --set 7xKXtg2C"],
    ],
  });

  generate = Option.Boolean("-g,--generate", false, { description: "Generate a new account" });
  list = Option.Boolean("-l,--list", false, { description: "List accounts" });
  set = Option.String("--set", { description: "Make an account active: index, label or pubkey prefix" });
  label = Option.String("--label", { description: "A label for the new account (with -g)" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const action = oneAction({ "-g": this.generate, "-l": this.list, "--set": this.set !== undefined }) ?? "-l";
    if (this.label !== undefined && action !== "-g") throw new UsageError("--label goes with -g (generate)");
    const paths = resolveHomePaths(this.flags(), this.context.env, this.cwd());
    const keysDir = keysDirOf(paths);
    const out = this.context.stdout;

    if (action === "-g") {
      if (this.label !== undefined && this.label.trim() === "") throw new UsageError("--label: the label is empty");
      // The home's .gitignore (written by scaffolding) keeps .keys/ out of version control.
      const created = await scaffoldHome(paths);
      if (created.length > 0) this.context.stderr.write(`Created ${created.join(", ")}\n`);
      const passphrase = await readPassphrase(this.context, "Passphrase for the new account (empty: store it unencrypted):", { confirm: true });
      const info = await createAccount(keysDir, {
        ...(passphrase === undefined ? {} : { passphrase }),
        ...(this.label === undefined ? {} : { label: this.label }),
      });
      if (passphrase === undefined) {
        this.context.stderr.write(
          `No passphrase: the key is stored unencrypted, readable by this user only (set ${PASSPHRASE_ENV}, or answer the prompt on a terminal, to encrypt it).\n`,
        );
      }
      out.write(this.json ? `${JSON.stringify(accountJson(info), null, 2)}\n` : `${describeAccount(info)}\n`);
      if (!this.json && !info.active) out.write(`Not active: \`bitrouter account --set ${info.index}\` makes it the signing account.\n`);
      if (info.active) await this.tellAboutRunningServer();
      return 0;
    }

    if (action === "--set") {
      let info: AccountInfo;
      try {
        info = await setActiveAccount(keysDir, this.set!);
      } catch (error) {
        // Ambiguous choice: the user must say more (usage error, exit 2); the message lists the candidates.
        if (error instanceof AuthError && error.code === "ambiguous_account") throw new UsageError(`--set: ${error.message}`);
        throw error;
      }
      out.write(this.json ? `${JSON.stringify(accountJson(info), null, 2)}\n` : `${describeAccount(info)}\n`);
      await this.tellAboutRunningServer();
      return 0;
    }

    const accounts = await listAccounts(keysDir);
    out.write(this.json ? `${JSON.stringify({ keys_dir: keysDir, accounts: accounts.map(accountJson) }, null, 2)}\n` : renderAccounts(accounts));
    return 0;
  }

  /** A running server trusts the account it loaded until it reloads: say what to run. */
  private async tellAboutRunningServer(): Promise<void> {
    const state = await inspectDaemon(await this.daemonPaths({ warn: false }), 1000);
    if (state.state !== "running") return;
    this.context.stderr.write(
      `BitRouter is running (pid ${state.pid}) and still trusts the account it loaded: run \`bitrouter reload\` to make it require keys signed by this one.\n`,
    );
  }
}
