// The layout of a BitRouter home as the CLI runs the server from it: @bitrouter/config finds the home
// and its bitrouter.yaml and .env (resolvePaths); the run directory (PID file, control socket, start
// lock), the logs directory and first-use scaffolding are the CLI's.
import { existsSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CONFIG_FILE_NAME, ENV_FILE_NAME, resolvePaths, resolveUserPath, type Env, type GlobalFlags, type ResolvedPaths } from "@bitrouter/config";

/** The global flags: where the configuration is, and where the daemon keeps its files. */
export interface CliFlags extends GlobalFlags {
  runDir?: string;
  logsDir?: string;
}

export const PID_FILE_NAME = "bitrouter.pid";

/** A home's files: the configuration's (from @bitrouter/config) and the daemon's. */
export interface HomePaths extends ResolvedPaths {
  /** `<home>/run` unless --run-dir: PID file, control socket, start lock, ledger spill. */
  runDir: string;
  /** `<home>/logs` unless --logs-dir. */
  logsDir: string;
  /** `<run-dir>/bitrouter.pid`: the daemon's PID file. */
  pidFile: string;
}

/** The home and its layout for these flags (see resolvePaths for the home's precedence). */
export function resolveHomePaths(flags: CliFlags, env: Env, cwd: string): HomePaths {
  const paths = resolvePaths(flags, env, cwd);
  const runDir = flags.runDir ? resolveUserPath(flags.runDir, env, cwd) : join(paths.home, "run");
  return {
    ...paths,
    runDir,
    logsDir: flags.logsDir ? resolveUserPath(flags.logsDir, env, cwd) : join(paths.home, "logs"),
    pidFile: join(runDir, PID_FILE_NAME),
  };
}

/** The control socket: `server.control.socket` under the run directory (an absolute path is kept as is). */
export function controlSocketPath(runDir: string, socket: string): string {
  return resolve(runDir, socket);
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
export async function scaffoldHome(paths: HomePaths): Promise<string[]> {
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
