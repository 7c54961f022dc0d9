import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "@bitrouter/config";
import type { ResolvedConfig } from "@bitrouter/config";
import type { RouterHook } from "@bitrouter/core";
import type { MockUpstream } from "@bitrouter/testkit";
import { createLogger } from "../src/logger.js";
import { startRuntime } from "../src/runtime.js";
import type { Runtime } from "../src/runtime.js";

/** Providers of every protocol, all pointing at one mock upstream. */
export function providersYaml(mock: MockUpstream): string {
  return `
inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: key-oai
    models:
      gpt-test:
        pricing: { input_tokens: { no_cache: 1 }, output_tokens: { text: 2 } }
  ant:
    api_protocol: anthropic
    api_base: ${mock.baseUrl("anthropic")}
    api_key: key-ant
  goo:
    api_protocol: google
    api_base: ${mock.baseUrl("google")}
    api_key: key-goo
`;
}

export interface TestServer {
  runtime: Runtime;
  url: string;
  home: string;
  /** Replace the YAML the next reload reads. */
  setYaml(yaml: string): void;
  close(): Promise<void>;
}

/** Starts the real server on 127.0.0.1:0 with a control socket in a temp run dir. */
export async function startTestServer(
  yaml: string,
  options: {
    hooks?: (config: ResolvedConfig) => RouterHook[];
    /** For ${VAR} in the YAML. */
    env?: Record<string, string>;
    /** The server process's own environment (OTEL_*); default: none. */
    processEnv?: Record<string, string>;
    home?: string;
    keysDir?: string;
    database?: string;
    /** How long shutdown keeps retrying an unreachable database before spilling (default 10 s). */
    databaseCloseTimeoutMs?: number;
    drainTimeoutMs?: number;
  } = {},
): Promise<TestServer> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "bitrouter-server-"));
  let current = yaml;
  const runtime = await startRuntime({
    load: () => parseConfig(current, { env: options.env ?? {}, home }).config,
    paths: { runDir: join(home, "run"), controlSocket: join(home, "run", "bitrouter.sock"), pidFile: join(home, "run", "bitrouter.pid") },
    listen: "127.0.0.1:0",
    logger: createLogger({ level: "info", stderr: false, logsDir: join(home, "logs") }),
    ...(options.hooks ? { hooks: (config: ResolvedConfig) => options.hooks!(config) } : {}),
    drainTimeoutMs: options.drainTimeoutMs ?? 5000,
    env: options.processEnv ?? {},
    ...(options.keysDir ? { auth: { keysDir: options.keysDir } } : {}),
    ...(options.database
      ? {
          database: {
            url: options.database,
            baseDir: home,
            ...(options.databaseCloseTimeoutMs === undefined ? {} : { closeTimeoutMs: options.databaseCloseTimeoutMs }),
          },
        }
      : {}),
  });
  return {
    runtime,
    url: runtime.url,
    home,
    setYaml: (next) => {
      current = next;
    },
    close: () => runtime.shutdown("test"),
  };
}
