// `bitrouter restart`: stop (if running) then start.
import { Command, Option } from "clipanion";
import { stopDaemon } from "../daemon.js";
import { DaemonStartCommand, parseTimeout } from "./start.js";

export class RestartCommand extends DaemonStartCommand {
  static override paths = [["restart"]];
  static override usage = Command.Usage({
    description: "Restart the background daemon",
    details: "`bitrouter stop` then `bitrouter start`: in-flight requests drain first (SIGKILL after --timeout). Dynamic routes are in memory and do not survive it; to apply a config change without a restart, use `bitrouter reload`.",
    examples: [["Restart", "$0 restart"]],
  });

  timeout = Option.String("--timeout", "35", { description: "How long to wait for the drain before SIGKILL (seconds, or 1500ms / 2m)" });

  async run(): Promise<number> {
    const timeoutMs = parseTimeout("--timeout", this.timeout);
    const { paths } = await this.loadConfig({ scaffold: false });
    const stopped = await stopDaemon(paths, timeoutMs);
    if (stopped.outcome === "failed") {
      this.context.stderr.write(`Could not stop BitRouter: ${stopped.reason}.\n`);
      return 1;
    }
    if (stopped.outcome === "stopped") this.context.stdout.write(`BitRouter stopped (pid ${stopped.pid}${stopped.killed ? ", killed with SIGKILL" : ""}).\n`);
    return this.startDaemon();
  }
}
