// The base of every bitrouter command: the global flags, path resolution, config loading and
// error reporting (exit codes: 0 ok, 1 failure, 2 usage error).
import { existsSync } from "node:fs";
import { ConfigError, DEFAULT_CONTROL_SOCKET, loadConfig, type LoadedConfig } from "@bitrouter/config";
import { Command, Option } from "clipanion";
import { paintFor, type Paint } from "./colour.js";
import { controlSocketPath, resolveHomePaths, scaffoldHome, type CliFlags, type HomePaths } from "./home.js";

/** The resolved paths and control socket; `configError` when the config did not load (see daemonPaths). */
export type DaemonFiles = HomePaths & { controlSocket: string; configError?: ConfigError };

/** A loaded configuration with the home's layout and the control socket it names. */
export type LoadedHome = LoadedConfig<HomePaths & { controlSocket: string }> & { created: string[] };

function indentLines(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the user caused on the command line (exit code 2). */
export function isUsageError(error: unknown): boolean {
  return error instanceof Error && (error as { clipanion?: { type?: string } }).clipanion?.type === "usage";
}

/** A failure to explain in one line (no stack trace): a missing server, a bad argument value, ... */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export abstract class BitrouterCommand extends Command {
  homeDir = Option.String("--home-dir", { description: "Override the BitRouter home directory" });
  configFile = Option.String("--config-file", { description: "Override <home>/bitrouter.yaml" });
  envFile = Option.String("--env-file", { description: "Override <home>/.env" });
  runDir = Option.String("--run-dir", { description: "Override <home>/run" });
  logsDir = Option.String("--logs-dir", { description: "Override <home>/logs" });
  db = Option.String("--db", { description: "Override the database connection URL" });

  /** The command's work; return an exit code (default 0). Throw ConfigError / UsageError freely. */
  abstract run(): Promise<number | void>;

  override async execute(): Promise<number> {
    try {
      return (await this.run()) ?? EXIT_OK;
    } catch (error) {
      return this.report(error);
    }
  }

  /** Print an error on stderr and choose the exit code. Stack traces only for internal errors. */
  protected report(error: unknown): number {
    const red = this.paint("stderr").red;
    if (error instanceof ConfigError) {
      const [head, ...rest] = error.message.split("\n");
      this.context.stderr.write(`${[red(head ?? ""), ...rest].join("\n")}\n`);
      return EXIT_FAILURE;
    }
    if (error instanceof CliError) {
      this.context.stderr.write(`${red("Error:")} ${error.message}\n`);
      return error.exitCode;
    }
    if (isUsageError(error)) {
      this.context.stderr.write(`${red("Usage error:")} ${(error as Error).message}\n`);
      return EXIT_USAGE;
    }
    // Expected failures (a port in use, an unreachable database, EACCES...) speak for themselves;
    // a stack trace helps only with a bug, or when BITROUTER_DEBUG asks for it.
    const bug = error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError || error instanceof SyntaxError;
    const message = error instanceof Error ? ((bug || this.context.env.BITROUTER_DEBUG) && error.stack ? error.stack : error.message) : String(error);
    this.context.stderr.write(`${red("Error:")} ${message}\n`);
    return EXIT_FAILURE;
  }

  /** Colours for one of this command's output streams (none unless a terminal, NO_COLOR/FORCE_COLOR). */
  protected paint(stream: "stdout" | "stderr"): Paint {
    return paintFor(this.context[stream] as { isTTY?: boolean }, this.context.env);
  }

  /** The global flags (those @bitrouter/config reads, and the daemon's directories). */
  protected flags(): CliFlags {
    const flags: CliFlags = {};
    if (this.homeDir !== undefined) flags.homeDir = this.homeDir;
    if (this.configFile !== undefined) flags.configFile = this.configFile;
    if (this.envFile !== undefined) flags.envFile = this.envFile;
    if (this.runDir !== undefined) flags.runDir = this.runDir;
    if (this.logsDir !== undefined) flags.logsDir = this.logsDir;
    if (this.db !== undefined) flags.db = this.db;
    return flags;
  }

  /**
   * The user's working directory. Under the root `pnpm bitrouter` script, pnpm runs us from the
   * workspace root and keeps the user's directory in INIT_CWD; anywhere else INIT_CWD may be a
   * leftover of an enclosing script, so it is only trusted for that script.
   */
  protected cwd(): string {
    const env = this.context.env;
    if (env.npm_lifecycle_event === "bitrouter" && env.INIT_CWD) return env.INIT_CWD;
    return process.cwd();
  }

  /**
   * The running server's control socket. Falls back to the default socket name when the config
   * does not load, so `bitrouter reload` can still reach a server (and report its own verdict).
   */
  protected async controlSocketPath(): Promise<string> {
    return (await this.daemonPaths({ warn: false })).controlSocket;
  }

  /**
   * Where the daemon's files are, for commands that need no more of the config (stop, status):
   * a config that does not load (a typo while the daemon runs fine) must not lock the operator
   * out of their server, so its error becomes a warning and the run directory comes from the
   * flags and defaults (with the default control socket name).
   */
  protected async daemonPaths(options: { warn?: boolean } = {}): Promise<DaemonFiles> {
    try {
      return (await this.loadConfig({ scaffold: false })).paths;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const paths = resolveHomePaths(this.flags(), this.context.env, this.cwd());
      if (options.warn !== false) {
        const warning = this.paint("stderr").yellow("warning:");
        this.context.stderr.write(`${warning} the configuration does not load (fix it before the next start or reload):\n${indentLines(error.message)}\n`);
        this.context.stderr.write(`${warning} using the run directory ${paths.runDir} and the default control socket name\n`);
      }
      return { ...paths, controlSocket: controlSocketPath(paths.runDir, DEFAULT_CONTROL_SOCKET), configError: error };
    }
  }

  /** Resolve paths, scaffold the home on first use, and load the configuration. */
  protected async loadConfig(options: { scaffold?: boolean; envFileMayBeMissing?: boolean } = {}): Promise<LoadedHome> {
    const env = this.context.env;
    const paths = resolveHomePaths(this.flags(), env, this.cwd());
    // A --env-file that is not there is a typo more often than not: running without its keys would
    // only fail later, less clearly. (`init` creates it.)
    if (this.envFile !== undefined && !options.envFileMayBeMissing && !existsSync(paths.envFile)) {
      throw new CliError(`--env-file ${paths.envFile}: no such file`);
    }
    const created = options.scaffold === false ? [] : await scaffoldHome(paths);
    const loaded = await loadConfig({ paths, flags: this.flags(), env, cwd: this.cwd() });
    return { ...loaded, paths: { ...loaded.paths, controlSocket: controlSocketPath(paths.runDir, loaded.config.server.control.socket) }, created };
  }
}
