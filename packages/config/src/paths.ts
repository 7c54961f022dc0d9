// Home directory resolution, the directory layout, scaffolding, and the database URL.
import { existsSync, statSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Env } from "./document.js";

/** The global CLI flags that move files around (all optional). */
export interface GlobalFlags {
  homeDir?: string;
  configFile?: string;
  envFile?: string;
  runDir?: string;
  logsDir?: string;
  /** Database URL (highest precedence). */
  db?: string;
}

export type HomeSource = "flag" | "cwd" | "env" | "default";

export interface ResolvedPaths {
  home: string;
  /** Which rule chose the home: --home-dir, ./bitrouter.yaml in cwd, BITROUTER_HOME, or ~/.bitrouter. */
  homeSource: HomeSource;
  configFile: string;
  envFile: string;
  runDir: string;
  logsDir: string;
  /** `<run-dir>/bitrouter.pid`: the daemon's PID file. */
  pidFile: string;
  /** Which of the files were given explicitly by a flag (a missing one deserves a warning). */
  explicit?: { configFile: boolean; envFile: boolean };
}

export const CONFIG_FILE_NAME = "bitrouter.yaml";
export const ENV_FILE_NAME = ".env";
export const PID_FILE_NAME = "bitrouter.pid";

function expandHome(path: string, env: Env): string {
  if (path === "~") return env.HOME || homedir();
  if (path.startsWith("~/")) return join(env.HOME || homedir(), path.slice(2));
  return path;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Resolve the home directory and file locations. Home, in order: --home-dir; the cwd if it holds
 * bitrouter.yaml; BITROUTER_HOME if it is an existing directory; ~/.bitrouter. Relative flag paths
 * resolve against `cwd`.
 */
export function resolvePaths(flags: GlobalFlags = {}, env: Env = process.env, cwd: string = process.cwd()): ResolvedPaths {
  const fromFlag = (value: string) => resolve(cwd, expandHome(value, env));
  let home: string;
  let homeSource: HomeSource;
  if (flags.homeDir) {
    home = fromFlag(flags.homeDir);
    homeSource = "flag";
  } else if (existsSync(join(cwd, CONFIG_FILE_NAME))) {
    home = resolve(cwd);
    homeSource = "cwd";
  } else if (env.BITROUTER_HOME && isDirectory(resolve(cwd, expandHome(env.BITROUTER_HOME, env)))) {
    home = resolve(cwd, expandHome(env.BITROUTER_HOME, env));
    homeSource = "env";
  } else {
    home = join(env.HOME || homedir(), ".bitrouter");
    homeSource = "default";
  }
  const runDir = flags.runDir ? fromFlag(flags.runDir) : join(home, "run");
  return {
    home,
    homeSource,
    configFile: flags.configFile ? fromFlag(flags.configFile) : join(home, CONFIG_FILE_NAME),
    envFile: flags.envFile ? fromFlag(flags.envFile) : join(home, ENV_FILE_NAME),
    runDir,
    logsDir: flags.logsDir ? fromFlag(flags.logsDir) : join(home, "logs"),
    pidFile: join(runDir, PID_FILE_NAME),
    explicit: { configFile: Boolean(flags.configFile), envFile: Boolean(flags.envFile) },
  };
}

export type DatabaseUrlSource = "flag" | "env" | "config" | "default";

/**
 * Database URL: --db > BITROUTER_DATABASE_URL > database.url > `sqlite://<home>/bitrouter.db?mode=rwc`.
 * A relative SQLite path resolves against the home directory (against cwd for the --db flag).
 */
export function resolveDatabaseUrl(options: { flag?: string | undefined; env: Env; configUrl?: string | undefined; home: string; cwd: string }): {
  url: string;
  source: DatabaseUrlSource;
} {
  if (options.flag) return { url: absoluteSqlite(options.flag, options.cwd), source: "flag" };
  const fromEnv = options.env.BITROUTER_DATABASE_URL;
  if (fromEnv) return { url: absoluteSqlite(fromEnv, options.home), source: "env" };
  if (options.configUrl) return { url: absoluteSqlite(options.configUrl, options.home), source: "config" };
  return { url: `sqlite://${join(options.home, "bitrouter.db")}?mode=rwc`, source: "default" };
}

function absoluteSqlite(url: string, base: string): string {
  const match = /^sqlite:(?:\/\/)?([^?]*)(\?.*)?$/i.exec(url.trim());
  if (!match) return url;
  const path = match[1] ?? "";
  if (path === "" || path.startsWith(":memory:") || isAbsolute(path)) return url;
  return `sqlite://${resolve(base, path)}${match[2] ?? ""}`;
}

const CONFIG_TEMPLATE = `# BitRouter configuration; every field is described in BitRouter's docs/configuration.md.
#
# An empty file is a valid configuration: every built-in provider (openai, anthropic, google,
# openrouter, deepseek, ...) is enabled when its API key is in the environment, e.g. put
#   OPENAI_API_KEY=sk-...
# in the .env file beside this one, then ask for the model "openai:gpt-4o".
#
# server:
#   listen: 127.0.0.1:8787
#
# providers:
#   openai:
#     api_key: \${OPENAI_API_KEY}
#
# models:
#   default:
#     strategy: priority
#     endpoints:
#       - provider: openai
#         model_id: gpt-4o
`;

const ENV_TEMPLATE = `# Environment for BitRouter, loaded at startup (process environment variables win).
# Holds secrets: keep it private (mode 600) and out of version control.
# OPENAI_API_KEY=
# ANTHROPIC_API_KEY=
`;

const GITIGNORE_TEMPLATE = `.env
logs/
run/
.keys/
bitrouter.db
bitrouter.db-wal
bitrouter.db-shm
`;

async function createFile(path: string, content: string, mode: number): Promise<boolean> {
  try {
    await writeFile(path, content, { flag: "wx", mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  await chmod(path, mode); // the umask may have narrowed the mode: set it exactly
  return true;
}

async function createDir(path: string, mode: number): Promise<boolean> {
  if (existsSync(path)) return false;
  await mkdir(path, { recursive: true, mode });
  return true;
}

/**
 * Create the home directory layout where it is missing; never overwrites anything. Files are only
 * created at their default places in the home (a --config-file or --env-file elsewhere is the
 * user's). Returns the paths it created.
 */
export async function scaffoldHome(paths: ResolvedPaths): Promise<string[]> {
  const created: string[] = [];
  const dir = async (path: string, mode: number) => {
    if (await createDir(path, mode)) created.push(path);
  };
  const file = async (path: string, content: string, mode: number) => {
    if (await createFile(path, content, mode)) created.push(path);
  };
  await dir(paths.home, 0o700);
  if (paths.configFile === join(paths.home, CONFIG_FILE_NAME)) await file(paths.configFile, CONFIG_TEMPLATE, 0o644);
  if (paths.envFile === join(paths.home, ENV_FILE_NAME)) await file(paths.envFile, ENV_TEMPLATE, 0o600);
  await file(join(paths.home, ".gitignore"), GITIGNORE_TEMPLATE, 0o644);
  await dir(paths.runDir, 0o700);
  await dir(paths.logsDir, 0o755);
  return created;
}
