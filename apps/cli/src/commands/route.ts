// `bitrouter route list | add | rm`: dynamic routes on the running server (in memory, kept across
// reloads, gone on restart).
import { Command, Option } from "clipanion";
import { BitrouterCommand } from "../base.js";
import { controlCall } from "../control-client.js";
import type { ControlRoute as RouteRow } from "@bitrouter/server/control-client";

export class RouteListCommand extends BitrouterCommand {
  static override paths = [
    ["route", "list"],
    ["route", "ls"],
  ];
  static override usage = Command.Usage({ description: "List the running server's routes (config and dynamic)" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const socket = await this.controlSocketPath();
    const { body } = await controlCall(socket, "/routes");
    const routes = (body as { routes: RouteRow[] }).routes;
    if (this.json) {
      this.context.stdout.write(`${JSON.stringify(routes, null, 2)}\n`);
      return 0;
    }
    if (routes.length === 0) {
      this.context.stdout.write("No routes. Add one with `bitrouter route add NAME provider:model_id`.\n");
      return 0;
    }
    const width = Math.max(4, ...routes.map((r) => r.name.length));
    this.context.stdout.write(`${"NAME".padEnd(width)}  SOURCE   STRATEGY      ENDPOINTS\n`);
    for (const r of routes) {
      this.context.stdout.write(`${r.name.padEnd(width)}  ${r.source.padEnd(7)}  ${r.strategy.padEnd(12)}  ${r.endpoints.join(", ")}\n`);
    }
    return 0;
  }
}

export class RouteAddCommand extends BitrouterCommand {
  static override paths = [["route", "add"]];
  static override usage = Command.Usage({
    description: "Add (or replace) a dynamic route on the running server",
    examples: [
      ["Route 'research' to o3, falling back to Claude", "bitrouter route add research openai:o3 anthropic:claude-sonnet-4-20250514 --strategy priority"],
    ],
  });
  name = Option.String({ name: "NAME" });
  endpoints = Option.Rest({ name: "provider:model_id", required: 1 });
  strategy = Option.String("--strategy", "priority", { description: "priority (failover in order) or load_balance (round-robin)" });

  async run(): Promise<number> {
    const socket = await this.controlSocketPath();
    const { status, body } = await controlCall(socket, "/routes", {
      method: "POST",
      body: { name: this.name, endpoints: this.endpoints, strategy: this.strategy },
    });
    const answer = body as { error?: string; warning?: string };
    if (status !== 200) {
      this.context.stderr.write(`Error: ${answer.error ?? JSON.stringify(body)}\n`);
      return status === 400 ? 2 : 1;
    }
    this.context.stdout.write(`Route '${this.name}' -> ${this.endpoints.join(", ")} (${this.strategy}).\n`);
    if (answer.warning) this.context.stderr.write(`warning: ${answer.warning}\n`);
    return 0;
  }
}

export class RouteRmCommand extends BitrouterCommand {
  static override paths = [
    ["route", "rm"],
    ["route", "remove"],
  ];
  static override usage = Command.Usage({ description: "Remove a dynamic route from the running server" });
  name = Option.String({ name: "NAME" });

  async run(): Promise<number> {
    const socket = await this.controlSocketPath();
    const { status, body } = await controlCall(socket, `/routes/${encodeURIComponent(this.name)}`, { method: "DELETE" });
    if (status !== 200) {
      this.context.stderr.write(`Error: ${(body as { error?: string }).error ?? JSON.stringify(body)}\n`);
      return 1;
    }
    this.context.stdout.write(`Route '${this.name}' removed.\n`);
    return 0;
  }
}
