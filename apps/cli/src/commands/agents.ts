// `bitrouter agents list | status`: the upstream agents of `agents:` in bitrouter.yaml.
import { access, constants } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { Command, Option } from "clipanion";
import type { AgentConfig } from "@bitrouter/config";
import { BitrouterCommand } from "../base.js";

/** Where A2A agents publish their card (the current name, then the older one). */
const AGENT_CARD_PATHS = ["/.well-known/agent-card.json", "/.well-known/agent.json"];
const PROBE_TIMEOUT_MS = 5000;

interface AgentStatus {
  name: string;
  kind: "a2a" | "acp";
  target: string;
  ok: boolean;
  detail: string;
}

function target(agent: AgentConfig): string {
  return agent.url ?? [agent.command, ...(agent.args ?? [])].join(" ");
}

export class AgentsListCommand extends BitrouterCommand {
  static override paths = [
    ["agents", "list"],
    ["agents", "ls"],
  ];
  static override usage = Command.Usage({ description: "List the upstream agents configured under `agents:`" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const agents = (await this.loadConfig({ scaffold: false })).config.agents;
    const rows = Object.entries(agents).map(([name, agent]) => ({
      name,
      kind: agent.url ? "a2a" : "acp",
      target: target(agent),
      description: agent.description ?? "",
    }));
    if (this.json) {
      this.context.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      this.context.stdout.write("No agents configured. Add `agents: {<name>: {url: ...}}` or `{command: ...}` to bitrouter.yaml.\n");
      return 0;
    }
    for (const r of rows) this.context.stdout.write(`${r.name}  ${r.kind}  ${r.target}${r.description ? `  ${r.description}` : ""}\n`);
    return 0;
  }
}

export class AgentsStatusCommand extends BitrouterCommand {
  static override paths = [["agents", "status"]];
  static override usage = Command.Usage({ description: "Check each agent: a remote A2A agent's card is reachable, a local ACP agent's command is on PATH" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const agents = (await this.loadConfig({ scaffold: false })).config.agents;
    const statuses = await Promise.all(Object.entries(agents).map(([name, agent]) => probe(name, agent, this.context.env.PATH ?? "")));
    if (this.json) {
      this.context.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
    } else if (statuses.length === 0) {
      this.context.stdout.write("No agents configured.\n");
    } else {
      for (const s of statuses) this.context.stdout.write(`${s.name}  ${s.kind}  ${s.ok ? "ok" : "FAILED"}  ${s.detail}\n`);
    }
    return statuses.every((s) => s.ok) ? 0 : 1;
  }
}

async function probe(name: string, agent: AgentConfig, path: string): Promise<AgentStatus> {
  if (agent.url) {
    const base = agent.url.replace(/\/+$/, "");
    let last = "";
    for (const card of AGENT_CARD_PATHS) {
      try {
        const response = await fetch(`${base}${card}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        if (response.ok) {
          const body = (await response.json()) as { name?: unknown };
          return {
            name,
            kind: "a2a",
            target: agent.url,
            ok: true,
            detail: `reachable: agent card${typeof body.name === "string" ? ` "${body.name}"` : ""} at ${card}`,
          };
        }
        last = `HTTP ${response.status} for ${card}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
    }
    return { name, kind: "a2a", target: agent.url, ok: false, detail: `unreachable: ${last}` };
  }
  const command = agent.command as string;
  const found = await which(command, path);
  return { name, kind: "acp", target: target(agent), ok: found !== undefined, detail: found ? `found: ${found}` : `'${command}' not found on PATH` };
}

async function which(command: string, path: string): Promise<string | undefined> {
  const candidates =
    isAbsolute(command) || command.includes("/")
      ? [command]
      : path
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
