// Shell completion at a real terminal: bash in tmux with `source <(bitrouter completion bash)`.
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, run, tempDir } from "./daemon-helpers.js";

class Bash {
  private readonly socket = `bitrouter-completion-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  constructor(home: string) {
    this.tmux([
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "160",
      "-y",
      "30",
      "-c",
      home,
      `env -i PATH=${process.env.PATH ?? ""} HOME=${home} TERM=screen PS1='$ ' bash --norc --noprofile`,
    ]);
  }
  private tmux(args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
  }
  type(text: string): void {
    this.tmux(["send-keys", "-t", "t", "-l", text]);
  }
  keys(...keys: string[]): void {
    this.tmux(["send-keys", "-t", "t", ...keys]);
  }
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-t", "t"]);
  }
  async waitFor(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 10_000;
    let text = "";
    while (Date.now() < deadline) {
      text = this.screen();
      if (pattern.test(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`timed out waiting for ${String(pattern)}; the screen was:\n${text}`);
  }
  close(): void {
    spawnSync("tmux", ["-L", this.socket, "kill-server"]);
    rmSync(join(process.env.TMUX_TMPDIR || "/tmp", `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}

describe("bitrouter completion", () => {
  it("bash completes commands, subcommands and each command's flags", async () => {
    const bash = new Bash(tempDir());
    try {
      bash.type(`bitrouter() { ${process.execPath} -- ${BIN} "$@"; }; source <(bitrouter completion bash); echo loaded`);
      bash.keys("Enter");
      await bash.waitFor(/^loaded$/m);
      bash.type("bitrouter sta");
      bash.keys("Tab", "Tab");
      await bash.waitFor(/start\s+status/);
      bash.keys("C-u");
      bash.type("bitrouter route ");
      bash.keys("Tab", "Tab");
      await bash.waitFor(/add\s+list\s+rm/);
      bash.keys("C-u");
      bash.type("bitrouter restart --start-t");
      bash.keys("Tab");
      await bash.waitFor(/\$ bitrouter restart --start-timeout\s*$/m);
      bash.keys("C-u");
      bash.type("bitrouter keys --rev");
      bash.keys("Tab");
      await bash.waitFor(/\$ bitrouter keys --revoke\s*$/m);
    } finally {
      bash.close();
    }
  });

  it("zsh and fish scripts name every command; an unknown shell is a usage error", async () => {
    const [zsh, fish, tcsh] = await Promise.all([run(["completion", "zsh"]), run(["completion", "fish"]), run(["completion", "tcsh"])]);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toContain("bashcompinit");
    expect(zsh.stdout).toContain("complete -o default -F _bitrouter bitrouter");
    expect(fish.code).toBe(0);
    for (const command of ["status", "start", "keygen", "completion"]) expect(fish.stdout).toContain(`-n '__fish_use_subcommand' -a '${command}'`);
    expect(fish.stdout).toContain("complete -c bitrouter -n '__fish_seen_subcommand_from keygen' -l exp -r -F");
    expect(tcsh.code).toBe(2);
    expect(tcsh.stderr).toContain('completion: "tcsh" is not one of bash, zsh, fish');
  });
});
