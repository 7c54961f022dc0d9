// `bitrouter serve`: the API server in the foreground, until SIGTERM / SIGINT (SIGHUP reloads).
import { join } from "node:path";
import { Command, Option } from "clipanion";
import { loadConfig } from "@bitrouter/config";
import { BitrouterCommand } from "../base.js";

export class ServeCommand extends BitrouterCommand {
  static override paths = [["serve"]];
  static override usage = Command.Usage({
    description: "Start the API server in the foreground",
    details:
      "Serves the OpenAI, Anthropic and Google APIs on server.listen. SIGHUP (or `bitrouter reload`) reloads the configuration; SIGTERM or Ctrl+C drains in-flight requests and stops.",
    examples: [
      ["Serve with the default home", "bitrouter serve"],
      ["Serve on another address", "bitrouter serve --listen 127.0.0.1:9000"],
    ],
  });

  listen = Option.String("--listen", { description: "Override server.listen (host:port)" });
  allowOpenNetwork = Option.Boolean("--allow-open-network", false, {
    description: "Serve without authentication on a non-loopback address (only behind a firewall or an authenticating proxy)",
  });

  async run(): Promise<number> {
    const { handleSignals, startRuntime } = await import("@bitrouter/server"); // keeps other commands' start-up light
    const first = await this.loadConfig();
    for (const warning of first.warnings) this.context.stderr.write(`warning: ${warning}\n`);
    const cwd = this.cwd();
    const flags = this.flags();
    let initial: typeof first | undefined = first;
    const runtime = await startRuntime({
      // The first load is the one above; every reload re-reads .env and bitrouter.yaml.
      load: async () => {
        if (initial) {
          const config = initial.config;
          initial = undefined;
          return config;
        }
        const loaded = await loadConfig({ paths: first.paths, flags, env: process.env, cwd });
        return loaded.config;
      },
      paths: { runDir: first.paths.runDir, logsDir: first.paths.logsDir, controlSocket: first.paths.controlSocket, pidFile: first.paths.pidFile },
      ...(this.listen === undefined ? {} : { listen: this.listen }),
      database: { url: first.paths.databaseUrl, baseDir: first.paths.home },
      auth: { keysDir: join(first.paths.home, ".keys"), allowOpen: this.allowOpenNetwork },
    });
    const providers = runtime
      .current()
      .router.listModels()
      .some((m) => m.kind === "direct");
    this.context.stdout.write(`BitRouter listening on ${runtime.url}\n`);
    if (!providers) {
      this.context.stdout.write(
        `No provider has an API key yet: add one to ${first.paths.envFile} (e.g. OPENAI_API_KEY=sk-...) or run \`bitrouter init\`, then \`bitrouter reload\`.\n`,
      );
    }
    handleSignals(runtime);
    await runtime.closed;
    return 0;
  }
}
