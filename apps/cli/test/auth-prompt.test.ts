// The hidden passphrase prompt, at a real terminal (tmux): `account -g` asks twice, `keygen` asks to
// unlock an encrypted account; what is typed never shows on the screen.
import { listAccounts } from "@bitrouter/auth";
import { afterEach, describe, expect, it } from "vitest";
import { keysDir, newHome, tempDir } from "./auth-helpers.js";
import { Terminal } from "./tui-tmux.js";

const PASSPHRASE = "typed-Passphrase-42";
let terminal: Terminal | undefined;
afterEach(() => terminal?.close());

function open(home: string, args: string[]): Terminal {
  terminal = new Terminal([...args, "--home-dir", home], { env: { HOME: tempDir() }, cwd: tempDir(), cols: 250 });
  return terminal;
}

describe("passphrase prompt on a terminal", () => {
  it("account -g asks twice and encrypts; keygen asks to unlock; a wrong answer fails", async () => {
    const home = newHome();
    const gen = open(home, ["account", "-g"]);
    await gen.waitFor("Passphrase for the new account");
    gen.type(PASSPHRASE);
    gen.keys("Enter");
    await gen.waitFor("Repeat the passphrase");
    gen.type(PASSPHRASE);
    gen.keys("Enter");
    const done = await gen.waitFor("[exited 0]");
    expect(done).toContain("(encrypted)");
    expect(done).not.toContain(PASSPHRASE);
    gen.close();
    const [account] = await listAccounts(keysDir(home));
    expect(account!.encrypted).toBe(true);

    const keygen = open(home, ["keygen", "--exp", "5m"]);
    await keygen.waitFor(`Passphrase for account ${account!.prefix}`);
    keygen.type(PASSPHRASE);
    keygen.keys("Enter");
    const minted = await keygen.waitFor("[exited 0]");
    expect(minted).toContain("Key ");
    expect(minted).toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
    expect(minted).not.toContain(PASSPHRASE);
    keygen.close();

    const wrong = open(home, ["keygen"]);
    await wrong.waitFor("Passphrase for account");
    wrong.type("not-the-passphrase");
    wrong.keys("Enter");
    expect(await wrong.waitFor("[exited 1]")).toContain(`wrong passphrase for account ${account!.prefix}`);
  });

  it("account -g: different answers change nothing; an empty answer stores the key unencrypted", async () => {
    const home = newHome();
    const mismatch = open(home, ["account", "-g"]);
    await mismatch.waitFor("Passphrase for the new account");
    mismatch.type("one");
    mismatch.keys("Enter");
    await mismatch.waitFor("Repeat the passphrase");
    mismatch.type("two");
    mismatch.keys("Enter");
    const failed = await mismatch.waitFor("[exited 1]");
    expect(failed).toContain("Error: the passphrases do not match; nothing was changed");
    expect(failed).not.toContain("    at "); // a sentence, not a stack trace
    mismatch.close();
    expect(await listAccounts(keysDir(home))).toEqual([]);

    const empty = open(home, ["account", "-g"]);
    await empty.waitFor("Passphrase for the new account");
    empty.keys("Enter");
    const plain = await empty.waitFor("[exited 0]");
    expect(plain).toContain("(not encrypted)");
    expect(plain).toContain("No passphrase: the key is stored unencrypted");
    expect((await listAccounts(keysDir(home)))[0]!.encrypted).toBe(false);
  });
});
