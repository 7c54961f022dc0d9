// `bitrouter tools list | status | discover`: the running server's MCP tool gateway.
import { Command, Option } from "clipanion";
import { stringify } from "yaml";
import { BitrouterCommand } from "../base.js";
import { controlCall } from "../control-client.js";
import type { ControlUpstream as UpstreamRow } from "@bitrouter/server/control-client";

interface ToolRow {
  name: string;
  server?: string;
  tool?: string;
  description: string;
  input_schema: Record<string, unknown>;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n")}\n`;
}

export class ToolsListCommand extends BitrouterCommand {
  static override paths = [
    ["tools", "list"],
    ["tools", "ls"],
  ];
  static override usage = Command.Usage({ description: "List the tools the running server's MCP gateway serves (as `/mcp` names them)" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const { body } = await controlCall(await this.controlSocketPath(), "/tools");
    const tools = (body as { tools: ToolRow[] }).tools;
    if (this.json) {
      this.context.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
      return 0;
    }
    if (tools.length === 0) {
      this.context.stdout.write("No tools. Add an MCP server (`api_protocol: mcp`) to bitrouter.yaml, then `bitrouter reload`.\n");
      return 0;
    }
    const oneLine = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text).replace(/\s+/g, " ");
    this.context.stdout.write(table([["NAME", "SERVER", "DESCRIPTION"], ...tools.map((t) => [t.name, t.server ?? "(tools:)", oneLine(t.description)])]));
    return 0;
  }
}

export class ToolsStatusCommand extends BitrouterCommand {
  static override paths = [["tools", "status"]];
  static override usage = Command.Usage({ description: "Show each upstream MCP server: connected or its error, tools, hidden by filters, ping" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const { body } = await controlCall(await this.controlSocketPath(), "/tools/status");
    const upstreams = (body as { upstreams: UpstreamRow[] }).upstreams;
    // Exit 1 when an upstream is down, so scripts and health checks can tell.
    const code = upstreams.some((u) => u.state === "failed") ? 1 : 0;
    if (this.json) {
      this.context.stdout.write(`${JSON.stringify(upstreams, null, 2)}\n`);
      return code;
    }
    if (upstreams.length === 0) {
      this.context.stdout.write("No MCP or REST tool providers configured.\n");
      return 0;
    }
    const rows = upstreams.map((u) => [
      u.name,
      u.transport,
      u.state === "failed" ? `failed: ${u.error ?? "unknown error"}` : u.state,
      u.tools === undefined ? "-" : String(u.tools),
      String(u.hidden ?? 0),
      u.lastPingMs === undefined ? "-" : `${u.lastPingMs} ms`,
      u.bridge ? `/mcp/${u.name}` : "-",
    ]);
    this.context.stdout.write(table([["SERVER", "TRANSPORT", "STATE", "TOOLS", "HIDDEN", "PING", "BRIDGE"], ...rows]));
    return code;
  }
}

export class ToolsDiscoverCommand extends BitrouterCommand {
  static override paths = [["tools", "discover"]];
  static override usage = Command.Usage({
    description: "Print a `tools:` block for bitrouter.yaml with every tool of one MCP server",
    examples: [["Name the tools of github-mcp", "bitrouter tools discover github-mcp >> tools.yaml"]],
  });
  provider = Option.String({ name: "PROVIDER" });

  async run(): Promise<number> {
    const { status, body } = await controlCall(await this.controlSocketPath(), `/tools?server=${encodeURIComponent(this.provider)}`);
    if (status !== 200) {
      this.context.stderr.write(`Error: ${(body as { error?: string }).error ?? JSON.stringify(body)}\n`);
      return 1;
    }
    const tools = (body as { tools: ToolRow[] }).tools;
    if (tools.length === 0) {
      this.context.stderr.write(`Error: '${this.provider}' lists no tools (see \`bitrouter tools status\`)\n`);
      return 1;
    }
    const entries: Record<string, unknown> = {};
    for (const t of tools) {
      const serviceId = t.tool ?? t.name;
      entries[serviceId] = {
        endpoints: [{ provider: this.provider, service_id: serviceId }],
        ...(t.description ? { description: t.description } : {}),
        input_schema: t.input_schema,
      };
    }
    this.context.stdout.write(stringify({ tools: entries }));
    return 0;
  }
}
