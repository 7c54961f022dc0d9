// Bare `bitrouter`: the setup wizard when no provider is configured, then the TUI dashboard with
// the API server running in this process (or attached to the daemon when its control socket
// answers). Not on a terminal: prints `bitrouter status` instead.
import { join } from "node:path";
import { availableProviders, loadConfig } from "@bitrouter/config";
import type { Runtime } from "@bitrouter/server";
import { fetchOverSocket } from "@bitrouter/server/control-client";
import { Command, Option } from "clipanion";
import { distance } from "fastest-levenshtein";
import { BitrouterCommand, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type LoadedHome } from "../base.js";
import { readSnapshot, serverAnswers } from "../tui/data.js";
import { runDashboard } from "../tui/dashboard.js";
import { VERSION } from "../version.js";
import { interactiveInit } from "./init.js";

export class DashboardCommand extends BitrouterCommand {
  static override paths = [Command.Default];
  static override usage = Command.Usage({
    description: "The dashboard: runs the setup wizard on first use, then the API server with a live TUI",
    details:
      "Shows daemon status, listen address, providers (key present or missing), routes and live traffic, refreshed every second. Attaches to the daemon when one is running (`bitrouter start`); otherwise serves in this process until you quit (q or Ctrl+C), draining in-flight requests. Not on a terminal, it prints `bitrouter status`.",
    examples: [["Open the dashboard", "$0"]],
  });

  listen = Option.String("--listen", { description: "Override server.listen (host:port) for the server started here" });
  /** Words that matched no command land here (the default command takes no arguments). */
  unknown = Option.Rest();

  async run(): Promise<number> {
    if (this.unknown.length > 0) return this.unknownCommand();
    const stdin = this.context.stdin as { isTTY?: boolean };
    const stdout = this.context.stdout as { isTTY?: boolean };
    if (!stdin.isTTY || !stdout.isTTY) return this.printStatus();

    let loaded = await this.loadConfig();
    const socket = loaded.paths.controlSocket;
    const daemon = await serverAnswers(socket);
    if (!daemon && availableProviders(loaded.config).length === 0) {
      this.context.stdout.write("No provider has an API key yet: let's set one up.\n\n");
      if (!(await interactiveInit(loaded, this.context, { verify: true }))) return EXIT_FAILURE;
      loaded = await this.loadConfig();
      if (availableProviders(loaded.config).length === 0) {
        this.context.stdout.write("Still no provider with a key (a referenced variable is not set?). Set it, then run `bitrouter` again.\n");
        return EXIT_FAILURE;
      }
      this.context.stdout.write("\n");
    }
    for (const warning of loaded.warnings) this.context.stderr.write(`warning: ${warning}\n`);

    let runtime: Runtime | undefined;
    if (!daemon) runtime = await this.startServer(loaded);
    const mode = runtime ? "in-process" : "daemon";
    const dashboard = runDashboard({
      title: `BitRouter ${VERSION}`,
      poll: () => readSnapshot(socket, loaded, mode),
      reload: async () => {
        try {
          const { status, body } = await fetchOverSocket(socket, "/reload", { method: "POST" });
          if (status === 200) return { note: "configuration reloaded" };
          const problems = (body as { error?: string }).error ?? `HTTP ${status}`;
          return { note: "reload failed (see the box)", problems };
        } catch (error) {
          return { note: `reload failed: ${(error as Error).message}` };
        }
      },
    });
    // SIGTERM (`bitrouter stop`, kill) and SIGHUP (the terminal closed) quit like q: the server
    // below still drains.
    const onSignal = () => dashboard.stop();
    process.once("SIGTERM", onSignal);
    process.once("SIGHUP", onSignal);
    await dashboard.done;
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    if (runtime) {
      this.context.stdout.write("Stopping the server (draining in-flight requests)...\n");
      await runtime.shutdown("dashboard closed");
      this.context.stdout.write("Stopped.\n");
    }
    return EXIT_OK;
  }

  /** The same server as `bitrouter serve`, logging to <logs-dir>/bitrouter.log only (stderr is the screen). */
  private async startServer(first: LoadedHome): Promise<Runtime> {
    const flags = this.flags();
    const cwd = this.cwd();
    let initial: LoadedHome | undefined = first;
    const { createLogger, startRuntime } = await import("@bitrouter/server"); // loaded only when serving
    return startRuntime({
      load: async () => {
        if (initial) {
          const config = initial.config;
          initial = undefined;
          return config;
        }
        return (await loadConfig({ paths: first.paths, flags, env: process.env, cwd })).config;
      },
      paths: { runDir: first.paths.runDir, logsDir: first.paths.logsDir, controlSocket: first.paths.controlSocket, pidFile: first.paths.pidFile },
      ...(this.listen === undefined ? {} : { listen: this.listen }),
      database: { url: first.paths.databaseUrl, baseDir: first.paths.home },
      auth: { keysDir: join(first.paths.home, ".keys") },
      logger: createLogger({ level: first.config.server.log_level, logsDir: first.paths.logsDir, stderr: false }),
    });
  }

  /** `bitrouter statsu`: name the nearest commands, as clipanion does for flags. */
  private unknownCommand(): number {
    const typed = this.unknown.join(" ");
    const paths = this.cli
      .definitions()
      .map((d) => d.path.replace(/^bitrouter\s*/, ""))
      .filter((p) => p !== "" && !p.startsWith("-"));
    // Compare with as many words of each command as were typed ("rout" vs "route", not "route add").
    const ranked = paths.map((p) => ({ p, d: distance(typed, p.split(" ").slice(0, this.unknown.length).join(" ")) })).sort((a, b) => a.d - b.d);
    const best = ranked.filter((r) => r.d <= Math.max(2, Math.floor(typed.length / 3))).slice(0, 3);
    this.context.stderr.write(`Unknown command "${typed}".\n`);
    if (best.length > 0) this.context.stderr.write(`Did you mean:\n${best.map((r) => `  bitrouter ${r.p}`).join("\n")}\n`);
    this.context.stderr.write("Run `bitrouter --help` for every command.\n");
    return EXIT_USAGE;
  }

  /** Not a terminal: the status report, and where the interactive parts are. */
  private async printStatus(): Promise<number> {
    const args: string[] = ["status"];
    const flags = this.flags();
    const names: Record<string, string> = {
      homeDir: "--home-dir",
      configFile: "--config-file",
      envFile: "--env-file",
      runDir: "--run-dir",
      logsDir: "--logs-dir",
      db: "--db",
    };
    for (const [key, value] of Object.entries(flags)) if (value !== undefined) args.push(`${names[key]}=${value}`);
    const code = await this.cli.run(args);
    if (code === EXIT_OK) {
      this.context.stdout.write(
        "\nNot a terminal, so this is `bitrouter status`. On a terminal, `bitrouter` opens the dashboard; `bitrouter --help` lists every command.\n",
      );
    }
    return code;
  }
}
