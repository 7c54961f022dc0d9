// `bitrouter stop`: SIGTERM to the daemon, wait for its drain, SIGKILL after --timeout.
import { Command, Option } from "clipanion";
import { BitrouterCommand } from "../base.js";
import { stopDaemon } from "../daemon.js";
import { withSpinner } from "../spinner.js";
import { parseTimeout } from "./start.js";

export class StopCommand extends BitrouterCommand {
  static override paths = [["stop"]];
  static override usage = Command.Usage({
    description: "Stop the running daemon",
    details:
      "Sends SIGTERM; the server stops accepting, drains in-flight requests and removes its PID file. After --timeout it is killed with SIGKILL. A stale PID file (the process is gone) is cleaned up. Nothing running: says so and exits 0. A configuration that does not load is reported as a warning and does not prevent the stop.",
    examples: [
      ["Stop the daemon", "$0 stop"],
      ["Give in-flight requests two minutes", "$0 stop --timeout 2m"],
    ],
  });

  timeout = Option.String("--timeout", "35", { description: "How long to wait for the drain before SIGKILL (seconds, or 1500ms / 2m)" });

  async run(): Promise<number> {
    const timeoutMs = parseTimeout("--timeout", this.timeout);
    const paths = await this.daemonPaths();
    const result = await withSpinner(this.context.stderr, "Stopping BitRouter (draining in-flight requests)...", stopDaemon(paths, timeoutMs));
    switch (result.outcome) {
      case "not-running": {
        const previous = result.previous;
        if (previous.state === "crashed")
          this.context.stdout.write(`BitRouter is not running: pid ${previous.pid} exited without cleaning up (crashed or killed).\n`);
        else if (previous.state === "stale")
          this.context.stdout.write(
            `BitRouter is not running: the PID file named ${previous.pid === undefined ? "no valid pid" : `pid ${previous.pid}, another program`}.\n`,
          );
        else this.context.stdout.write("BitRouter is not running.\n");
        if (result.cleaned.length > 0) this.context.stdout.write(`Removed ${result.cleaned.join(", ")}\n`);
        return 0;
      }
      case "stopped":
        this.context.stdout.write(
          result.killed
            ? `BitRouter (pid ${result.pid}) did not stop within ${this.timeout}: killed with SIGKILL (in-flight requests were cut).\n`
            : `BitRouter stopped (pid ${result.pid}, ${(result.elapsedMs / 1000).toFixed(1)}s).\n`,
        );
        return 0;
      case "failed":
        this.context.stderr.write(`Could not stop BitRouter: ${result.reason}.\n`);
        return 1;
    }
  }
}
