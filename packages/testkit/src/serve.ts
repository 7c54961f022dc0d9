/**
 * Runs a mock upstream as its own process (for benchmarks):
 *   node packages/testkit/dist/serve.js --port 9100 [--host 127.0.0.1] [--fast] [--chunks 20]
 *     [--delay-ms 0] [--chunk-delay-ms 0]
 * Prints one line `mock listening on http://host:port (full|fast)` once ready; SIGINT/SIGTERM stop it.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startFastMock } from "./fast.js";
import { startMock } from "./mock.js";

export interface ServeHandle {
  url: string;
  close(): Promise<void>;
}

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** Parses the CLI arguments and starts the mock they describe. */
export async function serve(argv: string[]): Promise<ServeHandle> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      fast: { type: "boolean" },
      chunks: { type: "string" },
      "delay-ms": { type: "string" },
      "chunk-delay-ms": { type: "string" },
    },
  });
  const port = intOption("port", values.port) ?? 0;
  const host = values.host ?? "127.0.0.1";
  if (values.fast) {
    const mock = await startFastMock({
      port,
      host,
      chunks: intOption("chunks", values.chunks),
      delayMs: intOption("delay-ms", values["delay-ms"]),
      chunkDelayMs: intOption("chunk-delay-ms", values["chunk-delay-ms"]),
    });
    return { url: mock.url, close: () => mock.close() };
  }
  const mock = await startMock({ port, host });
  return { url: mock.url, close: () => mock.close() };
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const args = process.argv.slice(2);
  serve(args).then(
    (handle) => {
      process.stdout.write(`mock listening on ${handle.url} (${args.includes("--fast") ? "fast" : "full"})\n`);
      const stop = (): void => {
        void handle.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
