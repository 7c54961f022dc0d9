// `bitrouter reload`: hot-reload the running server's configuration.
import { Command } from "clipanion";
import { BitrouterCommand } from "../base.js";
import { controlCall } from "../control-client.js";

export class ReloadCommand extends BitrouterCommand {
  static override paths = [["reload"]];
  static override usage = Command.Usage({
    description: "Hot-reload the configuration of the running server",
    details:
      "Re-reads .env and bitrouter.yaml and swaps routing, providers and hooks without dropping requests. A configuration that fails to load leaves the old one serving; the reason is printed.",
  });

  async run(): Promise<number> {
    const socket = await this.controlSocketPath();
    const { status, body } = await controlCall(socket, "/reload", { method: "POST" });
    if (status === 200) {
      this.context.stdout.write("Configuration reloaded.\n");
      return 0;
    }
    this.context.stderr.write(`Reload failed; the previous configuration keeps serving.\n${(body as { error?: string }).error ?? JSON.stringify(body)}\n`);
    return 1;
  }
}
