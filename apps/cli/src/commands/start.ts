// `bitrouter start`: the API server as a background daemon (`bitrouter serve` detached, its output
// in <logs-dir>/daemon.log); returns once GET /health answers.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option, UsageError } from "clipanion";
import { BitrouterCommand, type LoadedHome } from "../base.js";
import { DAEMON_LOG_NAME, startDaemon } from "../daemon.js";
import { withSpinner } from "../spinner.js";

/** `30`, `30s`, `1500ms`, `2m` -> milliseconds; a usage error (exit 2) otherwise. */
export function parseTimeout(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} takes seconds (30) or a duration (1500ms, 30s, 2m); got '${text}'`);
  const unit = { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? "s") as "ms" | "s" | "m"];
  return Number(match[1]) * unit;
}

/**
 * The daemon's command line: `serve` with the paths this command resolved, made absolute (the
 * daemon runs in the home directory). --db travels in the environment instead, where `ps` does not
 * show its password; BITROUTER_DATABASE_URL ranks above the config file just like the flag.
 */
export function serveInvocation(
  loaded: LoadedHome,
  given: { configFile: string | undefined; envFile: string | undefined; runDir: string | undefined; logsDir: string | undefined; db: string | undefined },
  serve: { listen: string | undefined; allowOpenNetwork: boolean },
  env: NodeJS.ProcessEnv,
): { args: string[]; env: NodeJS.ProcessEnv } {
  const { paths } = loaded;
  const args = ["serve", "--home-dir", paths.home];
  if (given.configFile !== undefined) args.push("--config-file", paths.configFile);
  if (given.envFile !== undefined) args.push("--env-file", paths.envFile);
  if (given.runDir !== undefined) args.push("--run-dir", paths.runDir);
  if (given.logsDir !== undefined) args.push("--logs-dir", paths.logsDir);
  if (serve.listen !== undefined) args.push("--listen", serve.listen);
  if (serve.allowOpenNetwork) args.push("--allow-open-network");
  const childEnv: NodeJS.ProcessEnv = { ...env };
  if (given.db !== undefined) childEnv.BITROUTER_DATABASE_URL = paths.databaseUrl;
  // The daemon's cwd is the home: a leftover INIT_CWD must not move it elsewhere.
  delete childEnv.INIT_CWD;
  return { args, env: childEnv };
}

/**
 * The flags a daemon was started with, saved in `<run-dir>/bitrouter.start.json` (0600: --db may
 * hold a password) so that `restart` without flags starts the same server again. Paths are
 * absolute; the run directory itself is where the file is, so it is not in it.
 */
export interface StartFlags {
  configFile?: string;
  envFile?: string;
  logsDir?: string;
  db?: string;
  listen?: string;
  allowOpenNetwork?: boolean;
}

export const START_FLAGS_FILE = "bitrouter.start.json";

export function readStartFlags(runDir: string): StartFlags {
  try {
    return JSON.parse(readFileSync(join(runDir, START_FLAGS_FILE), "utf8")) as StartFlags;
  } catch {
    return {}; // never started by this version, or removed: nothing to remember
  }
}

export abstract class DaemonStartCommand extends BitrouterCommand {
  listen = Option.String("--listen", { description: "Override server.listen (host:port)" });
  allowOpenNetwork = Option.Boolean("--allow-open-network", false, {
    description: "Serve without authentication on a non-loopback address (see `bitrouter serve --help`)",
  });
  startTimeout = Option.String("--start-timeout", "30", { description: "How long to wait for the server to answer GET /health (seconds, or 1500ms / 2m)" });

  /** Start the daemon and report; 0 when it runs (started now or already), 1 when it did not start. */
  protected async startDaemon(): Promise<number> {
    const timeoutMs = parseTimeout("--start-timeout", this.startTimeout);
    const loaded = await this.loadConfig();
    if (loaded.created.length > 0) this.context.stderr.write(`Created ${loaded.created.join(", ")}\n`);
    for (const warning of loaded.warnings) this.context.stderr.write(`${this.paint("stderr").yellow("warning:")} ${warning}\n`);
    const { paths } = loaded;
    const { args, env } = serveInvocation(loaded, this, this, this.context.env);
    const result = await withSpinner(
      this.context.stderr,
      "Starting BitRouter (waiting for GET /health)...",
      startDaemon({ paths, serveArgs: args, cwd: paths.home, env, timeoutMs }),
    );
    switch (result.outcome) {
      case "already-running":
        this.context.stdout.write(`BitRouter is already running (pid ${result.pid})${result.url ? ` on ${result.url}` : ""}.\n`);
        return 0;
      case "started":
        this.saveStartFlags(loaded);
        this.context.stdout.write(`BitRouter started (pid ${result.pid}), listening on ${result.url}\n`);
        this.context.stdout.write(`Logs: ${join(paths.logsDir, "bitrouter.log")}; stop it with \`bitrouter stop\`.\n`);
        return 0;
      case "failed": {
        const log = join(paths.logsDir, DAEMON_LOG_NAME);
        this.context.stderr.write(`BitRouter did not start: ${result.reason}.\n`);
        this.context.stderr.write(result.logTail ? `Last lines of ${log}:\n${indent(result.logTail)}\n` : `${log} holds nothing from this start.\n`);
        return 1;
      }
    }
  }

  private saveStartFlags(loaded: LoadedHome): void {
    const { paths } = loaded;
    const flags: StartFlags = {
      ...(this.configFile !== undefined ? { configFile: paths.configFile } : {}),
      ...(this.envFile !== undefined ? { envFile: paths.envFile } : {}),
      ...(this.logsDir !== undefined ? { logsDir: paths.logsDir } : {}),
      ...(this.db !== undefined ? { db: paths.databaseUrl } : {}),
      ...(this.listen !== undefined ? { listen: this.listen } : {}),
      ...(this.allowOpenNetwork ? { allowOpenNetwork: true } : {}),
    };
    const file = join(paths.runDir, START_FLAGS_FILE);
    if (Object.keys(flags).length === 0) rmSync(file, { force: true });
    else writeFileSync(file, `${JSON.stringify(flags, null, 2)}\n`, { mode: 0o600 });
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

export class StartCommand extends DaemonStartCommand {
  static override paths = [["start"]];
  static override usage = Command.Usage({
    description: "Start BitRouter as a background daemon",
    details:
      "Runs `bitrouter serve` in the background with the same global flags, detached from the terminal, and returns once the server answers GET /health (exit 0), printing its URL and PID. If it does not come up, prints the reason and the end of `<logs-dir>/daemon.log` (exit 1). Already running: says so and exits 0. Two concurrent starts give one daemon.",
    examples: [
      ["Start the daemon", "$0 start"],
      ["Start on another address", "$0 start --listen 127.0.0.1:9000"],
      ["Start with another home", "$0 start --home-dir /srv/bitrouter"],
    ],
  });

  async run(): Promise<number> {
    return this.startDaemon();
  }
}
