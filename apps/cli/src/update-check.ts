// The update notice: at most once a day the CLI asks the npm registry for the latest published
// version of @bitrouter/cli, keeps the answer in a small cache file, and says on stderr when a
// newer one exists. Only at a terminal; silent when offline; off with BITROUTER_NO_UPDATE_CHECK=1
// (or NO_UPDATE_NOTIFIER, or in CI).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { VERSION } from "./version.js";

export const PACKAGE = "@bitrouter/cli";
const DAY_MS = 86_400_000;
/** The whole check may hold the command's exit this long, no more (a slow network stays unnoticed). */
const WAIT_MS = 1500;
/** Commands that run for long or whose output is a script: no notice. */
const QUIET_COMMANDS = new Set(["serve", "completion"]);

interface Cache {
  checkedAt: number;
  latest?: string;
}

type Env = Record<string, string | undefined>;

export function cacheFile(env: Env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "bitrouter", "update-check.json");
}

/** 1.10.0 > 1.9.3; a pre-release or a malformed version is never newer. */
export function isNewer(latest: string, current: string): boolean {
  const parse = (v: string) => (/^\d+\.\d+\.\d+$/.test(v) ? v.split(".").map(Number) : undefined);
  const a = parse(latest);
  const b = parse(current);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  return false;
}

function readCache(file: string): Cache | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Cache;
  } catch {
    return undefined;
  }
}

async function fetchLatest(registry: string, signal: AbortSignal): Promise<string | undefined> {
  const response = await fetch(`${registry.replace(/\/+$/, "")}/${PACKAGE.replace("/", "%2f")}/latest`, { signal, headers: { accept: "application/json" } });
  if (!response.ok) return undefined;
  const body = (await response.json()) as { version?: unknown };
  return typeof body.version === "string" ? body.version : undefined;
}

/**
 * Starts the check for this run (reading the cache, and asking the registry when the cache is a
 * day old); `report()` prints the notice, if any, once the command is done.
 */
export function startUpdateCheck(args: string[], env: Env, stderr: { isTTY?: boolean; write(text: string): unknown }): { report(): Promise<void> } | undefined {
  if (!stderr.isTTY || env.BITROUTER_NO_UPDATE_CHECK || env.NO_UPDATE_NOTIFIER || env.CI) return undefined;
  if (QUIET_COMMANDS.has(args.find((a) => !a.startsWith("-")) ?? "")) return undefined;
  const file = cacheFile(env);
  const cache = readCache(file);
  const started = Date.now();
  let fresh: Promise<string | undefined> = Promise.resolve(cache?.latest);
  if (!cache || started - cache.checkedAt >= DAY_MS) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), WAIT_MS);
    timer.unref();
    fresh = fetchLatest(env.BITROUTER_UPDATE_REGISTRY || "https://registry.npmjs.org", controller.signal)
      .then((latest) => {
        try {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, `${JSON.stringify({ checkedAt: Date.now(), ...(latest ? { latest } : {}) })}\n`);
        } catch {
          // an unwritable cache only means asking again next time
        }
        return latest;
      })
      .catch(() => cache?.latest) // offline, a proxy, a timeout: say nothing
      .finally(() => clearTimeout(timer));
  }
  return {
    async report() {
      const latest = await fresh;
      if (latest && isNewer(latest, VERSION)) {
        stderr.write(
          `\nBitRouter ${latest} is available (this is ${VERSION}): npm install -g ${PACKAGE}\n(Set BITROUTER_NO_UPDATE_CHECK=1 to stop this check.)\n`,
        );
      }
    },
  };
}
