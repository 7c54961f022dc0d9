// `bitrouter keys -l | --show | --rm | --revoke`: tokens saved with `keygen --name`, and revocation.
// Listings show a fingerprint, never a whole token.
import { listTokens, removeToken, showToken, type SavedTokenInfo, type TokenClaims } from "@bitrouter/auth";
import { resolvePaths } from "@bitrouter/config";
import { Command, Option, UsageError } from "clipanion";
import { CliError } from "../base.js";
import { NoServerError, controlCall } from "../control-client.js";
import { AuthCommand, keysDirOf, oneAction } from "./account.js";
import { usd } from "../money.js";

/** Epoch seconds as ISO 8601 without the (always zero) milliseconds. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

function expiry(exp: number | undefined, now: number): string {
  if (exp === undefined) return "never";
  return `${isoSeconds(exp)}${exp * 1000 <= now ? " (expired)" : ""}`;
}

/** Key id -> when it was revoked (epoch ms), from the database's revocation list. */
export type RevokedKeys = ReadonlyMap<string, number>;

function tokenJson(t: SavedTokenInfo, revoked?: RevokedKeys): Record<string, unknown> {
  const revokedAt = revoked?.get(t.id);
  return {
    ...(revoked ? { revoked_at: revokedAt === undefined ? null : new Date(revokedAt).toISOString() } : {}),
    id: t.id,
    name: t.name,
    scope: t.scope,
    iss: t.iss,
    exp: t.exp ?? null,
    models: t.models ?? null,
    fingerprint: t.fingerprint,
    saved_at: t.savedAt,
  };
}

export function renderTokens(tokens: SavedTokenInfo[], now = Date.now(), revoked: RevokedKeys = new Map()): string {
  if (tokens.length === 0) return "No saved tokens. Save one with `bitrouter keygen --name <label>`.\n";
  const rows = [
    ["ID", "NAME", "SCOPE", "EXPIRES", "MODELS", "FINGERPRINT"],
    ...tokens.map((t) => [t.id, t.name, t.scope, `${expiry(t.exp, now)}${revoked.has(t.id) ? " (revoked)" : ""}`, t.models?.join(",") ?? "*", t.fingerprint]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

export function renderClaims(claims: TokenClaims, saved: SavedTokenInfo | undefined, now = Date.now()): string {
  const rows: [string, string][] = [["id", claims.id]];
  if (saved) rows.push(["name", saved.name], ["fingerprint", saved.fingerprint]);
  rows.push(["issuer", claims.iss], ["chain", claims.chain], ["scope", claims.scope]);
  if (claims.iat !== undefined) rows.push(["issued", isoSeconds(claims.iat)]);
  rows.push(["expires", expiry(claims.exp, now)]);
  rows.push(["models", claims.models === undefined ? "* (any)" : claims.models.length === 0 ? "(none)" : claims.models.join(", ")]);
  rows.push(["tools", claims.tools === undefined ? "* (any)" : claims.tools.length === 0 ? "(none)" : claims.tools.join(", ")]);
  if (claims.budget !== undefined) {
    const range =
      claims.budget_range === undefined
        ? "all time"
        : claims.budget_range.type === "rounds"
          ? `the last ${claims.budget_range.count} requests`
          : `the last ${claims.budget_range.seconds} s`;
    rows.push(["budget", `${claims.budget} micro-USD (${usd(claims.budget)}), ${claims.budget_scope ?? "session"} spend over ${range}`]);
  } else {
    rows.push(["budget", "none"]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`;
}

export class KeysCommand extends AuthCommand {
  static override paths = [["keys"]];
  static override usage = Command.Usage({
    description: "List, show, remove and revoke API keys",
    details: `
      \`-l\`, \`--show\` and \`--rm\` work on the tokens saved with \`bitrouter keygen --name\` (in \`<home>/.keys/tokens.json\`), by key id or name. Listings show a fingerprint (the first 12 hex characters of the token's SHA-256), never the token. Removing a saved token does not revoke it.

      \`--revoke <id>\` (a key id, or the name of a saved token) tells a running server at once over its control socket (it refuses the key from then on), then records the revocation in the database; other server instances see it within their revocation poll interval (5 s). While the database is unreachable the running server enforces the revocation and writes it to the database when it is back. Without an action, \`keys\` lists.
    `,
    examples: [
      ["List saved tokens", "$0 keys -l"],
      ["Show a token's claims", "$0 keys --show ci"],
      ["Forget a saved token", "$0 keys --rm ci"],
      ["Revoke a key everywhere", "$0 keys --revoke 5b0e3f0c-1d2e-4b5a-9c8d-7e6f5a4b3c2d"],
    ],
  });

  list = Option.Boolean("-l,--list", false, { description: "List saved tokens" });
  show = Option.String("--show", { description: "Show a saved token's decoded claims (id or name)" });
  rm = Option.String("--rm", { description: "Remove a saved token (id or name); does not revoke it" });
  revoke = Option.String("--revoke", { description: "Revoke a key (key id, or a saved token's name)" });
  reason = Option.String("--reason", { description: "Why (stored with the revocation)" });
  force = Option.Boolean("--force", false, { description: "With --revoke: revoke an id this host has never seen (not saved, never used)" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const action =
      oneAction({ "-l": this.list, "--show": this.show !== undefined, "--rm": this.rm !== undefined, "--revoke": this.revoke !== undefined }) ?? "-l";
    if (this.reason !== undefined && action !== "--revoke") throw new UsageError("--reason goes with --revoke");
    if (this.force && action !== "--revoke") throw new UsageError("--force goes with --revoke");
    const keysDir = keysDirOf(resolvePaths(this.flags(), this.context.env, this.cwd()));
    const out = this.context.stdout;

    if (action === "--show") {
      const claims = await showToken(keysDir, this.show!);
      const saved = (await listTokens(keysDir)).find((t) => t.id === claims.id);
      out.write(
        this.json
          ? `${JSON.stringify({ name: saved?.name ?? null, fingerprint: saved?.fingerprint ?? null, claims }, null, 2)}\n`
          : renderClaims(claims, saved),
      );
      return 0;
    }
    if (action === "--rm") {
      const removed = await removeToken(keysDir, this.rm!);
      out.write(
        this.json
          ? `${JSON.stringify(tokenJson(removed), null, 2)}\n`
          : `Removed saved token ${removed.id} ("${removed.name}"). It still works until it expires: \`bitrouter keys --revoke ${removed.id}\` revokes it.\n`,
      );
      return 0;
    }
    if (action === "--revoke") return this.revokeKey(keysDir, this.revoke!);

    const tokens = await listTokens(keysDir);
    const revoked = tokens.length > 0 ? await this.revokedKeys() : undefined;
    out.write(this.json ? `${JSON.stringify({ tokens: tokens.map((t) => tokenJson(t, revoked)) }, null, 2)}\n` : renderTokens(tokens, Date.now(), revoked));
    return 0;
  }

  /** The database's revocations; undefined (with a warning) when it cannot be read. */
  private async revokedKeys(): Promise<RevokedKeys | undefined> {
    try {
      const { paths } = await this.loadConfig({ scaffold: false });
      const { openStore, listRevocations } = await import("@bitrouter/store");
      const store = await openStore(paths.databaseUrl, { baseDir: paths.home });
      try {
        return new Map((await listRevocations(store)).map((r) => [r.keyId, r.revokedAt]));
      } finally {
        await store.close();
      }
    } catch (error) {
      this.context.stderr.write(
        `warning: cannot read revocations from the database, so revoked keys are not marked: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`,
      );
      return undefined;
    }
  }

  private async revokeKey(keysDir: string, idOrName: string): Promise<number> {
    const saved = await listTokens(keysDir);
    // A saved token's name stands for its id; any other value is taken as a key id (unsaved keys too).
    const id = (saved.find((t) => t.id === idOrName) ?? saved.find((t) => t.name === idOrName))?.id ?? idOrName.trim();
    if (id === "" || id.length > 200 || /[\s/]/.test(id)) throw new UsageError(`--revoke: "${idOrName}" is not a key id`);

    const { paths } = await this.loadConfig({ scaffold: false });
    const reason = this.reason ?? "revoked with bitrouter keys --revoke";
    // One connection for both the id check and the record; unreachable is not an error yet: the
    // running server can still enforce the revocation and record it when the database returns.
    const { openStore, revokeKey } = await import("@bitrouter/store");
    let storeError = "";
    const store = await openStore(paths.databaseUrl, { baseDir: paths.home }).catch((error: unknown) => {
      storeError = error instanceof Error ? error.message : String(error);
      return undefined;
    });
    let server: "told" | "open_mode" | "none" | "unreachable";
    let serverError = "";
    let serverStored = false;
    let revokedAt: number | undefined;
    try {
      // A typo must not report success: an id is known if it is a saved token or the database has
      // seen it (keys table or ledger). With the database down that cannot be checked: say so.
      if (!this.force && !saved.some((t) => t.id === id)) {
        if (store) await assertKnownKey(store, id);
        else this.context.stderr.write(`warning: the database is unreachable, so whether key ${id} exists cannot be checked; revoking it as given\n`);
      }

      // The running server first: it refuses the key at once, even while the database is down (and
      // then records the revocation there itself as soon as the database answers again).
      try {
        const answer = await controlCall(paths.controlSocket, `/keys/${encodeURIComponent(id)}/revoke`, { method: "POST", body: { reason } });
        const body = answer.body as { enforced?: boolean; stored?: boolean; error?: string } | undefined;
        if (answer.status === 200) {
          server = body?.enforced === false ? "open_mode" : "told";
          serverStored = body?.stored === true;
        } else {
          server = "unreachable";
          serverError = `answered ${answer.status}${body?.error ? `: ${body.error}` : ""}`;
        }
      } catch (error) {
        if (error instanceof NoServerError) server = "none";
        else {
          server = "unreachable";
          serverError = error instanceof Error ? error.message : String(error);
        }
      }

      // The database is the record other instances and later starts read.
      if (store) {
        try {
          revokedAt = (await revokeKey(store, id, reason)).revokedAt;
        } catch (error) {
          storeError = error instanceof Error ? error.message : String(error);
        }
      }
    } finally {
      await store?.close();
    }
    const serverWillStore = server === "told" || (server === "open_mode" && serverStored);
    if (revokedAt === undefined && !serverWillStore) {
      throw new CliError(`cannot record the revocation of key ${id}: ${storeError}${server === "none" ? " (and no server is running to enforce it)" : ""}`);
    }

    if (this.json) {
      const at = revokedAt === undefined ? null : new Date(revokedAt).toISOString();
      this.context.stdout.write(
        `${JSON.stringify({ key_id: id, revoked_at: at, stored: revokedAt !== undefined ? "now" : "by_server_when_database_returns", server }, null, 2)}\n`,
      );
    } else if (revokedAt !== undefined) {
      this.context.stdout.write(`Revoked key ${id} (recorded in the database at ${new Date(revokedAt).toISOString()}).\n`);
    } else {
      this.context.stdout.write(
        `Revoked key ${id} on the running server. The database is unreachable (${storeError}): the server records the revocation there as soon as it answers again.\n`,
      );
    }
    const notes: Record<typeof server, string> = {
      told: "The running server refuses it from now on.",
      open_mode: "The running server is in open mode (no operator account when it started): it does not check keys.",
      none: "No server is running here; servers read revocations from the database when they start and every few seconds.",
      unreachable: `warning: could not tell the running server (${serverError}); it picks the revocation up from the database within seconds.`,
    };
    this.context.stderr.write(`${notes[server]}\n`);
    return 0;
  }
}

/**
 * A revocation of an id nobody has seen is almost always a typo, and reporting success for it
 * leaves the real key working: the id must be a saved token's, or known to the database.
 */
async function assertKnownKey(store: import("@bitrouter/store").Store, id: string): Promise<void> {
  const { keyIdKnown } = await import("@bitrouter/store");
  if (await keyIdKnown(store, id)) return;
  throw new CliError(
    `no key "${id}" is known here: it is not a saved token (\`bitrouter keys -l\`) and no request used it. Check the id (keygen prints it; \`bitrouter usage --by key\` lists the keys in use); to revoke a key that was never saved nor used, add --force`,
  );
}
