import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type AccountInfo, decodeToken, issuersOf, listTokens, tokenFingerprint, verifyToken } from "@bitrouter/auth";
import { createLedger, isRevoked, openStore, toLedgerRow } from "@bitrouter/store";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { bitrouter, bitrouterAsync, generateAccount, keysDir, newHome, tokenOf } from "./auth-helpers.js";

/** Whether the key id is revoked in the home's default SQLite database. */
async function revokedInDatabase(home: string, keyId: string): Promise<boolean> {
  const store = await openStore(`sqlite://${join(home, "bitrouter.db")}?mode=rwc`, { baseDir: home });
  try {
    return await isRevoked(store, keyId);
  } finally {
    await store.close();
  }
}

describe("bitrouter keys", () => {
  let home: string;
  let account: AccountInfo;
  let ci: string;
  let admin: string;
  beforeAll(async () => {
    home = newHome();
    account = await generateAccount(home);
    ci = tokenOf(bitrouter(home, ["keygen", "--name", "ci", "--models", "openai:*,anthropic:claude-*", "--exp", "30d"]));
    admin = tokenOf(bitrouter(home, ["keygen", "--name", "ops", "--scope", "admin", "--exp", "never", "--budget", "5000000", "--budget-range", "rounds:10"]));
  });

  it("-l lists id, name, scope, expiry, models and fingerprint, never a whole token (text and --json)", () => {
    const run = bitrouter(home, ["keys", "-l"]);
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+NAME\s+SCOPE\s+EXPIRES\s+MODELS\s+FINGERPRINT$/);
    const c = decodeToken(ci);
    const exp = new Date(c.exp! * 1000).toISOString().replace(".000Z", "Z");
    expect(rows[0]).toMatch(new RegExp(`^${c.id}\\s+ci\\s+api\\s+${exp}\\s+openai:\\*,anthropic:claude-\\*\\s+${tokenFingerprint(ci)}$`));
    expect(rows[1]).toMatch(new RegExp(`^${decodeToken(admin).id}\\s+ops\\s+admin\\s+never\\s+\\*\\s+${tokenFingerprint(admin)}$`));
    expect(bitrouter(home, ["keys"]).stdout).toBe(run.stdout);

    const json = bitrouter(home, ["keys", "-l", "--json"]);
    expect(JSON.parse(json.stdout).tokens).toEqual([
      expect.objectContaining({
        id: c.id,
        name: "ci",
        scope: "api",
        exp: c.exp,
        models: ["openai:*", "anthropic:claude-*"],
        fingerprint: tokenFingerprint(ci),
      }),
      expect.objectContaining({ name: "ops", scope: "admin", exp: null, models: null, fingerprint: tokenFingerprint(admin) }),
    ]);
    // No token, and not even a token's signature, is printed.
    for (const out of [run.stdout + run.stderr, json.stdout + json.stderr]) {
      for (const token of [ci, admin]) {
        expect(out).not.toContain(token);
        expect(out).not.toContain(token.split(".")[2]);
      }
    }
  });

  it("-l on an empty keystore says how to save a token", () => {
    const run = bitrouter(newHome(), ["keys", "-l"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("No saved tokens. Save one with `bitrouter keygen --name <label>`.\n");
  });

  it("--show prints the decoded claims by name or id; --json", () => {
    const claims = decodeToken(admin);
    const run = bitrouter(home, ["keys", "--show", "ops"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^id\\s+${claims.id}$`, "m"));
    expect(run.stdout).toMatch(/^name\s+ops$/m);
    expect(run.stdout).toMatch(new RegExp(`^fingerprint\\s+${tokenFingerprint(admin)}$`, "m"));
    expect(run.stdout).toMatch(new RegExp(`^issuer\\s+${claims.iss}$`, "m"));
    expect(run.stdout).toMatch(/^scope\s+admin$/m);
    expect(run.stdout).toMatch(/^expires\s+never$/m);
    expect(run.stdout).toMatch(/^models\s+\* \(any\)$/m);
    expect(run.stdout).toMatch(/^budget\s+5000000 micro-USD \(\$5\.000000\), session spend over the last 10 requests$/m);
    expect(run.stdout).not.toContain(admin.split(".")[2]);

    const byId = bitrouter(home, ["keys", "--show", decodeToken(ci).id, "--json"]);
    expect(JSON.parse(byId.stdout)).toEqual({ name: "ci", fingerprint: tokenFingerprint(ci), claims: decodeToken(ci) });

    const missing = bitrouter(home, ["keys", "--show", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no saved token with id or name "nope"');
  });

  it("--rm forgets a saved token (by name or id) without revoking it", async () => {
    const local = newHome();
    const localAccount = await generateAccount(local);
    const a = tokenOf(bitrouter(local, ["keygen", "--name", "a"]));
    const b = tokenOf(bitrouter(local, ["keygen", "--name", "b"]));
    const run = bitrouter(local, ["keys", "--rm", "a"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Removed saved token ${decodeToken(a).id} ("a"). It still works until it expires`);
    expect(bitrouter(local, ["keys", "--rm", decodeToken(b).id]).code).toBe(0);
    expect(await listTokens(keysDir(local))).toEqual([]);
    await expect(verifyToken(a, { trusted: issuersOf(localAccount) })).resolves.toMatchObject({ id: decodeToken(a).id });
    expect(bitrouter(local, ["keys", "--rm", "a"]).code).toBe(1);
  });

  it("--revoke records the revocation in the database, by key id (unsaved keys too) or saved name", async () => {
    const unsaved = tokenOf(bitrouter(home, ["keygen"]));
    const id = decodeToken(unsaved).id;
    // An id nobody minted here nor used is a typo, until --force says it is meant.
    const foreign = "0f7c8a52-1c1e-4c7e-9d61-3a4f5e6d7c8b";
    const refused = bitrouter(home, ["keys", "--revoke", foreign]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Error: no key "${foreign}" is known here`);
    expect(await revokedInDatabase(home, foreign)).toBe(false);
    expect(bitrouter(home, ["keys", "--revoke", foreign, "--force"]).code).toBe(0);
    expect(await revokedInDatabase(home, foreign)).toBe(true);
    // A key minted here is known even if never saved nor used: keygen recorded it in the database.
    const run = bitrouter(home, ["keys", "--revoke", id, "--reason", "leaked in a log"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Revoked key ${id} (recorded in the database at `);
    expect(run.stderr).toContain("No server is running here");
    expect(await revokedInDatabase(home, id)).toBe(true);
    expect(await revokedInDatabase(home, decodeToken(ci).id)).toBe(false);
    // A verifier reading the database refuses the key.
    const store = await openStore(`sqlite://${join(home, "bitrouter.db")}?mode=rwc`, { baseDir: home });
    try {
      await expect(verifyToken(unsaved, { trusted: issuersOf(account), revocations: { isRevoked: (k) => isRevoked(store, k) } })).rejects.toMatchObject({
        code: "key_revoked",
      });
    } finally {
      await store.close();
    }

    const byName = bitrouter(home, ["keys", "--revoke", "ci", "--json"]);
    expect(byName.code).toBe(0);
    expect(JSON.parse(byName.stdout)).toMatchObject({ key_id: decodeToken(ci).id, server: "none" });
    expect(await revokedInDatabase(home, decodeToken(ci).id)).toBe(true);

    // -l marks it revoked (text and --json); the other saved key is not.
    const listed = bitrouter(home, ["keys", "-l"]);
    expect(listed.stdout).toMatch(new RegExp(`^${decodeToken(ci).id}\\s+ci\\s+api\\s+\\S+ \\(revoked\\)\\s`, "m"));
    expect(listed.stdout).toMatch(new RegExp(`^${decodeToken(admin).id}\\s+ops\\s+admin\\s+never\\s+\\*`, "m"));
    const json = JSON.parse(bitrouter(home, ["keys", "-l", "--json"]).stdout) as { tokens: { name: string; revoked_at: string | null }[] };
    expect(json.tokens.find((t) => t.name === "ci")!.revoked_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(json.tokens.find((t) => t.name === "ops")!.revoked_at).toBeNull();
  });

  it("--revoke of a mistyped id is an error and revokes nothing", async () => {
    const id = decodeToken(admin).id;
    const typo = `${id.slice(0, -1)}${id.endsWith("0") ? "1" : "0"}`;
    const run = bitrouter(home, ["keys", "--revoke", typo]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`no key "${typo}" is known here`);
    expect(await revokedInDatabase(home, typo)).toBe(false);
    expect(await revokedInDatabase(home, id)).toBe(false);

    // A key never saved here but seen on the ledger (it made a request) is known: no --force needed.
    const used = decodeToken(tokenOf(bitrouter(home, ["keygen"]))).id;
    const store = await openStore(`sqlite://${join(home, "bitrouter.db")}?mode=rwc`, { baseDir: home });
    try {
      const ledger = createLedger(store);
      ledger.record(
        toLedgerRow({
          requestId: "req-used-key",
          inboundProtocol: "openai-chat",
          model: "m",
          route: "m",
          stream: false,
          status: 200,
          startedAt: Date.now(),
          latencyMs: 5,
          attempts: 1,
          principal: { keyId: used },
          counters: {},
        }),
      );
      await ledger.close();
    } finally {
      await store.close();
    }
    const known = bitrouter(home, ["keys", "--revoke", used]);
    expect(known.code, known.stderr).toBe(0);
    expect(await revokedInDatabase(home, used)).toBe(true);
  });

  it("--revoke: a value that cannot be a key id, or two actions, is a usage error", () => {
    const bad = bitrouter(home, ["keys", "--revoke", "a b"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--revoke: "a b" is not a key id');
    const two = bitrouter(home, ["keys", "--show", "ci", "--rm", "ci"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("--show and --rm cannot be combined");
  });
});

describe("bitrouter keys --revoke with a running server", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** Stands in for the server's control socket: records the calls, answers like the server does. */
  async function controlSocket(
    home: string,
    answer: (req: IncomingMessage) => [number, unknown],
  ): Promise<{ method?: string | undefined; url?: string | undefined }[]> {
    const calls: { method?: string | undefined; url?: string | undefined }[] = [];
    mkdirSync(join(home, "run"), { recursive: true });
    server = createServer((req, res) => {
      calls.push({ method: req.method, url: req.url });
      const [status, body] = answer(req);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(join(home, "run", "bitrouter.sock"), resolve));
    return calls;
  }

  it("tells the server at once (POST /keys/<id>/revoke), then writes the database", async () => {
    const home = newHome();
    await generateAccount(home);
    const id = decodeToken(tokenOf(bitrouter(home, ["keygen"]))).id;
    const calls = await controlSocket(home, () => [200, { ok: true, key_id: id, enforced: true }]);
    const run = await bitrouterAsync(home, ["keys", "--revoke", id, "--force"]);
    expect(run.code).toBe(0);
    expect(calls).toEqual([{ method: "POST", url: `/keys/${id}/revoke` }]);
    expect(run.stderr).toContain("The running server refuses it from now on.");
    expect(await revokedInDatabase(home, id)).toBe(true);
  });

  it("with the database down, the running server still enforces it at once and says it records it later", async () => {
    const home = newHome();
    await generateAccount(home);
    const id = decodeToken(tokenOf(bitrouter(home, ["keygen"]))).id;
    const bodies: string[] = [];
    const calls = await controlSocket(home, (req) => {
      req.setEncoding("utf8").on("data", (chunk: string) => bodies.push(chunk));
      return [200, { ok: true, key_id: id, enforced: true, stored: false }];
    });
    const down = { BITROUTER_DATABASE_URL: "postgres://postgres@127.0.0.1:1/bitrouter_down" };
    const run = await bitrouterAsync(home, ["keys", "--revoke", id, "--reason", "lost laptop"], down);
    expect(run.code).toBe(0);
    expect(calls).toEqual([{ method: "POST", url: `/keys/${id}/revoke` }]);
    expect(run.stdout).toContain(`Revoked key ${id} on the running server. The database is unreachable`);
    expect(run.stdout).toContain("the server records the revocation there as soon as it answers again");
    expect(run.stderr).toContain("The running server refuses it from now on.");
    expect(bodies.join("")).toContain("lost laptop");
    // No server and no database: nothing enforces it, so that is an error.
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const alone = await bitrouterAsync(home, ["keys", "--revoke", id], down);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/cannot record the revocation of key .*no server is running to enforce it/);
  });

  it("a server that fails to answer is a warning: the database already holds the revocation", async () => {
    const home = newHome();
    await generateAccount(home);
    const id = decodeToken(tokenOf(bitrouter(home, ["keygen"]))).id;
    await controlSocket(home, () => [500, { error: "boom" }]);
    const run = await bitrouterAsync(home, ["keys", "--revoke", id, "--force"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("warning: could not tell the running server (answered 500: boom)");
    expect(await revokedInDatabase(home, id)).toBe(true);
  });
});
