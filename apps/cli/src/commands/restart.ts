// `bitrouter restart`: stop (if running) then start.
import { Command, Option } from "clipanion";
import { stopDaemon } from "../daemon.js";
import { withSpinner } from "../spinner.js";
import { DaemonStartCommand, parseTimeout, readStartFlags, type StartFlags } from "./start.js";

export class RestartCommand extends DaemonStartCommand {
  static override paths = [["restart"]];
  static override usage = Command.Usage({
    description: "Restart the background daemon",
    details:
      "`bitrouter stop` then `bitrouter start`: in-flight requests drain first (SIGKILL after --timeout). The flags the daemon was started with (--listen, --allow-open-network, --db, --config-file, --env-file, --logs-dir) are used again unless given anew (they are kept in <run-dir>/bitrouter.start.json). Dynamic routes are in memory and do not survive it; to apply a config change without a restart, use `bitrouter reload`.",
    examples: [["Restart", "$0 restart"]],
  });

  timeout = Option.String("--timeout", "35", { description: "How long to wait for the drain before SIGKILL (seconds, or 1500ms / 2m)" });

  async run(): Promise<number> {
    const timeoutMs = parseTimeout("--timeout", this.timeout);
    this.reuse(readStartFlags((await this.daemonPaths({ warn: false })).runDir));
    const { paths } = await this.loadConfig({ scaffold: false });
    const stopped = await withSpinner(this.context.stderr, "Stopping BitRouter (draining in-flight requests)...", stopDaemon(paths, timeoutMs));
    if (stopped.outcome === "failed") {
      this.context.stderr.write(`Could not stop BitRouter: ${stopped.reason}.\n`);
      return 1;
    }
    if (stopped.outcome === "stopped") this.context.stdout.write(`BitRouter stopped (pid ${stopped.pid}${stopped.killed ? ", killed with SIGKILL" : ""}).\n`);
    return this.startDaemon();
  }

  /** Takes the remembered start flags that were not given again, and says which. */
  private reuse(saved: StartFlags): void {
    const reused: string[] = [];
    const take = <K extends keyof StartFlags>(key: K, flag: string, current: unknown, show = true) => {
      if (current !== undefined && current !== false) return undefined;
      const value = saved[key];
      if (value === undefined) return undefined;
      reused.push(value === true ? flag : show ? `${flag} ${String(value)}` : `${flag} ***`);
      return value;
    };
    this.configFile = take("configFile", "--config-file", this.configFile) ?? this.configFile;
    this.envFile = take("envFile", "--env-file", this.envFile) ?? this.envFile;
    this.logsDir = take("logsDir", "--logs-dir", this.logsDir) ?? this.logsDir;
    this.db = take("db", "--db", this.db, false) ?? this.db;
    this.listen = take("listen", "--listen", this.listen) ?? this.listen;
    this.allowOpenNetwork = take("allowOpenNetwork", "--allow-open-network", this.allowOpenNetwork) ?? this.allowOpenNetwork;
    if (reused.length > 0) this.context.stderr.write(`Restarting with the flags it was started with: ${reused.join(" ")}\n`);
  }
}
