import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError, accountFromSeed, listTokens, mintToken, removeToken, saveToken, showToken, tokenFingerprint } from "../src/index.js";
import { seedOf } from "./helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bitrouter-tokens-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("saved tokens", () => {
  it("saves, lists without the token, shows claims, removes; file is 0600", async () => {
    const account = await accountFromSeed(seedOf(11));
    const t1 = await mintToken(account, { id: "k1", models: ["openai:*"], exp: 2_000_000_000 });
    const t2 = await mintToken(account, { id: "k2", scope: "admin" }, { chain: "base" });
    const keysDir = join(dir, ".keys");
    await saveToken(keysDir, "ci", t1);
    await saveToken(keysDir, "admin", t2);
    const file = join(keysDir, "tokens.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const list = await listTokens(keysDir);
    expect(list).toEqual([
      expect.objectContaining({ id: "k1", name: "ci", scope: "api", exp: 2_000_000_000, models: ["openai:*"], fingerprint: tokenFingerprint(t1) }),
      expect.objectContaining({ id: "k2", name: "admin", scope: "admin", fingerprint: tokenFingerprint(t2) }),
    ]);
    const listed = JSON.stringify(list);
    for (const t of [t1, t2]) for (const seg of t.split(".")) expect(listed).not.toContain(seg);

    expect(await showToken(keysDir, "k2")).toMatchObject({ id: "k2", scope: "admin", chain: "eip155:8453" });
    expect(await showToken(keysDir, "ci")).toMatchObject({ id: "k1" });

    await removeToken(keysDir, "k1");
    expect((await listTokens(keysDir)).map((t) => t.id)).toEqual(["k2"]);
    const err = await showToken(keysDir, "k1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe("token_not_found");
    expect((err as AuthError).message).not.toContain(t2);
  });

  it("accepts an explicit tokens file, replaces a re-saved key id, refuses a name clash", async () => {
    const account = await accountFromSeed(seedOf(12));
    const file = join(dir, "my-tokens.json");
    const a = await mintToken(account, { id: "a" });
    const b = await mintToken(account, { id: "b" });
    await saveToken(file, "one", a);
    await saveToken(file, "renamed", a);
    expect((await listTokens(file)).map((t) => [t.id, t.name])).toEqual([["a", "renamed"]]);
    const clash = (await saveToken(file, "renamed", b).catch((e: unknown) => e)) as AuthError;
    expect(clash.code).toBe("duplicate_token_name");
    expect(JSON.parse(await readFile(file, "utf8")).tokens).toHaveLength(1);
  });

  it("refuses to save something that is not a token", async () => {
    const err = (await saveToken(dir, "x", "not-a-token").catch((e: unknown) => e)) as AuthError;
    expect(err.code).toBe("malformed_token");
    expect(await listTokens(dir)).toEqual([]);
  });
});
