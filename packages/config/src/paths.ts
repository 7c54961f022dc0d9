// Where the configuration is: the home directory, bitrouter.yaml and .env in it, and the database
// URL (whose default lives in the home). The rest of a home's layout (run and logs directories, PID
// file, control socket, scaffolding) belongs to the CLI that runs the daemon (apps/cli/src/home.ts).
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Env } from "./document.js";

/** The global CLI flags that say where the configuration is (all optional). */
export interface GlobalFlags {
  homeDir?: string;
  configFile?: string;
  envFile?: string;
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
  /** Which of the files were given explicitly by a flag (a missing one deserves a warning). */
  explicit?: { configFile: boolean; envFile: boolean };
}

export const CONFIG_FILE_NAME = "bitrouter.yaml";
export const ENV_FILE_NAME = ".env";

function expandHome(path: string, env: Env): string {
  if (path === "~") return env.HOME || homedir();
  if (path.startsWith("~/")) return join(env.HOME || homedir(), path.slice(2));
  return path;
}

/** A path as the user gave it on the command line: `~` expanded, relative to `cwd`. */
export function resolveUserPath(path: string, env: Env, cwd: string): string {
  return resolve(cwd, expandHome(path, env));
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
  const fromFlag = (value: string) => resolveUserPath(value, env, cwd);
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
  return {
    home,
    homeSource,
    configFile: flags.configFile ? fromFlag(flags.configFile) : join(home, CONFIG_FILE_NAME),
    envFile: flags.envFile ? fromFlag(flags.envFile) : join(home, ENV_FILE_NAME),
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
