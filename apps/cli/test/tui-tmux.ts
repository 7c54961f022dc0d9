// Drive the built CLI in a real pseudo-terminal: a private tmux server per test (send-keys,
// capture-pane, resize-window), as a user at a terminal would.
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

if (spawnSync("tmux", ["-V"]).status !== 0) {
  throw new Error("these tests need tmux (apt-get install -y tmux)");
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Terminal {
  private readonly socket = `bitrouter-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  /**
   * Start `bitrouter <args>` in a detached session of `cols` x `rows` with exactly `env` (plus PATH
   * and TERM). When the program ends the pane prints `[exited N]` and stays open.
   */
  constructor(args: string[], options: { env: Record<string, string>; cwd: string; cols?: number; rows?: number }) {
    // No update check unless a test asks for one (it would go to the npm registry).
    const env = { PATH: process.env.PATH ?? "", TERM: "screen", BITROUTER_NO_UPDATE_CHECK: "1", ...options.env };
    const command = [
      "env -i",
      ...Object.entries(env).map(([k, v]) => quote(`${k}=${v}`)),
      quote(process.execPath),
      quote(BIN),
      ...args.map(quote),
      '; echo "[exited $?]"; sleep 600',
    ].join(" ");
    this.tmux(["new-session", "-d", "-s", "t", "-x", String(options.cols ?? 120), "-y", String(options.rows ?? 40), "-c", options.cwd, command]);
  }

  private tmux(args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, "-f", "/dev/null", ...args], { encoding: "utf8" });
  }

  /** The visible screen, as text (with `escapes`, the colour escape sequences too). */
  screen(options: { escapes?: boolean } = {}): string {
    return this.tmux(["capture-pane", "-p", ...(options.escapes ? ["-e"] : []), "-t", "t"]);
  }

  /** Keys by tmux name: "Enter", "Space", "Down", "C-c", "q"... */
  keys(...keys: string[]): void {
    this.tmux(["send-keys", "-t", "t", ...keys]);
  }

  /** Literal text (e.g. a key pasted at a prompt). */
  type(text: string): void {
    this.tmux(["send-keys", "-t", "t", "-l", text]);
  }

  resize(cols: number, rows: number): void {
    this.tmux(["resize-window", "-t", "t", "-x", String(cols), "-y", String(rows)]);
  }

  /** Wait until the screen matches; the last screen is in the error when it never does. */
  async waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = "";
    while (Date.now() < deadline) {
      text = this.screen();
      if (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`timed out waiting for ${String(pattern)}; the screen was:\n${text}`);
  }

  close(): void {
    try {
      this.tmux(["kill-server"]);
    } catch {
      // already gone
    }
    // tmux leaves its socket file behind.
    rmSync(join(process.env.TMUX_TMPDIR || "/tmp", `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}

/** A port that was free a moment ago (bind 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
