// `bitrouter status`: resolved paths, listen address, providers, virtual models, daemon state.
// Prints whether a provider has a key, never the key.
import { existsSync } from "node:fs";
import { redactUrl } from "@bitrouter/core";
import { hasCredentials, providerApiKey } from "@bitrouter/config";
import { Command, Option } from "clipanion";
import { BitrouterCommand, type LoadedHome } from "../base.js";
import { NO_PAINT, type Paint } from "../colour.js";
import { cleanStale, inspectDaemon, type DaemonState } from "../daemon.js";
import { VERSION } from "../version.js";
import { usd } from "../money.js";

export interface StatusReport {
  version: string;
  paths: {
    home: string;
    home_source: string;
    config_file: string;
    config_file_exists: boolean;
    env_file: string;
    run_dir: string;
    logs_dir: string;
    pid_file: string;
    control_socket: string;
    database_url: string;
    database_url_source: string;
  };
  /** `listen`: where the running server listens (its --listen), else server.listen; `configured_listen`: server.listen. */
  server: { listen: string; configured_listen: string; log_level: string };
  /** `cleaned`: the stale PID file / control socket this status run removed. */
  daemon: DaemonState & { pid_file: string; cleaned?: string[] };
  providers: {
    name: string;
    api_protocol: string;
    api_base: string | null;
    auth: string;
    api_key: "present" | "absent";
    available: boolean;
    models: number;
    builtin: boolean;
    derives: string | null;
  }[];
  models: { name: string; strategy: string; endpoints: string[] }[];
  created: string[];
  warnings: string[];
}

export function buildStatusReport(loaded: LoadedHome, daemon: DaemonState, cleaned: string[] = []): StatusReport {
  const { config, paths } = loaded;
  return {
    version: VERSION,
    paths: {
      home: paths.home,
      home_source: paths.homeSource,
      config_file: paths.configFile,
      config_file_exists: existsSync(paths.configFile),
      env_file: paths.envFile,
      run_dir: paths.runDir,
      logs_dir: paths.logsDir,
      pid_file: paths.pidFile,
      control_socket: paths.controlSocket,
      database_url: redactUrl(paths.databaseUrl),
      database_url_source: paths.databaseUrlSource,
    },
    server: {
      listen: daemon.state === "running" && daemon.server ? daemon.server.listen : config.server.listen,
      configured_listen: config.server.listen,
      log_level: config.server.log_level,
    },
    daemon: { ...daemon, pid_file: paths.pidFile, ...withCleaned(cleaned) },
    providers: Object.values(config.providers).map((p) => ({
      name: p.name,
      api_protocol: p.api_protocol,
      api_base: p.api_base ?? null,
      auth: p.auth.type,
      api_key: providerApiKey(p) === undefined ? "absent" : "present",
      available: p.api_base !== undefined && hasCredentials(p),
      models: Object.keys(p.models).length,
      builtin: p.builtin,
      derives: p.derives ?? null,
    })),
    models: Object.entries(config.models).map(([name, m]) => ({
      name,
      strategy: m.strategy,
      endpoints: m.endpoints.map((e) => `${e.provider}:${e.model_id}`),
    })),
    created: loaded.created,
    warnings: loaded.warnings,
  };
}

function withCleaned(cleaned: string[]): { cleaned?: string[] } {
  return cleaned.length > 0 ? { cleaned } : {};
}

const HOME_SOURCE: Record<string, string> = {
  flag: "from --home-dir",
  cwd: "./bitrouter.yaml in the current directory",
  env: "from BITROUTER_HOME",
  default: "default",
};

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length))) ?? [];
  return rows.map((row) => `  ${row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0))).join("  ")}`.trimEnd()).join("\n");
}

function describeDaemon(daemon: StatusReport["daemon"], paint: Paint = NO_PAINT): string {
  const cleaned = daemon.cleaned ? "; cleaned up" : "";
  switch (daemon.state) {
    case "running":
      return `${paint.green("running")} (pid ${daemon.pid}${daemon.server ? `, up ${duration(daemon.server.uptime_s)}` : ", control socket not answering"})`;
    case "stopped":
      return paint.dim("not running");
    case "crashed":
      return `${paint.yellow("not running")} (crashed: pid ${daemon.pid} exited without removing its PID file${cleaned})`;
    case "stale":
      return `${paint.yellow("not running")} (stale PID file ${daemon.pid_file}${daemon.pid === undefined ? "" : `: pid ${daemon.pid} is another program`}${cleaned})`;
  }
}

/** 3725 -> "1h 2m 5s". */
export function duration(seconds: number): string {
  const parts: string[] = [];
  const units: [number, string][] = [
    [86_400, "d"],
    [3600, "h"],
    [60, "m"],
  ];
  let rest = Math.max(0, Math.round(seconds));
  for (const [size, unit] of units) {
    if (rest >= size || parts.length > 0) parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  parts.push(`${rest}s`);
  return parts.join(" ");
}

/** The running server's live numbers (from its control socket). */
function serverRows(server: NonNullable<Extract<DaemonState, { state: "running" }>["server"]>): string[][] {
  const s = server.stats;
  return [
    ["url", server.url],
    [
      "requests",
      `${s.requests} (${s.errors} error${s.errors === 1 ? "" : "s"}), ${s.rps} req/s, p50 ${Math.round(s.latencyP50)} ms, p99 ${Math.round(s.latencyP99)} ms`,
    ],
    ["tokens", `${s.inputTokens} in, ${s.outputTokens} out`],
    ["spend", `${usd(s.costMicroUsd)} since start`],
  ];
}

export function renderStatus(report: StatusReport, paint: Paint = NO_PAINT): string {
  const p = report.paths;
  const lines: string[] = [];
  lines.push(paint.bold(`BitRouter ${report.version}`), "");
  lines.push(
    table([
      ["home", `${p.home} (${HOME_SOURCE[p.home_source] ?? p.home_source})`],
      ["config", `${p.config_file}${p.config_file_exists ? "" : " (missing: using defaults)"}`],
      ["env file", p.env_file],
      ["run dir", p.run_dir],
      ["logs dir", p.logs_dir],
      ["database", `${p.database_url} (${p.database_url_source})`],
      [
        "listen",
        report.server.listen === report.server.configured_listen
          ? report.server.listen
          : `${report.server.listen} (server.listen: ${report.server.configured_listen})`,
      ],
      ["daemon", describeDaemon(report.daemon, paint)],
      ...(report.daemon.state === "running" && report.daemon.server ? serverRows(report.daemon.server) : []),
    ]),
  );
  const available = report.providers.filter((x) => x.available).length;
  lines.push("", `Providers (${report.providers.length} configured, ${available} available)`);
  lines.push(
    table([
      ["NAME", "PROTOCOL", "API BASE", "KEY", "MODELS"],
      ...report.providers.map((x) => [
        x.name,
        x.api_protocol,
        x.api_base ?? "(none)",
        x.auth === "bearer" || x.auth === "header" || x.auth === "oauth" ? x.api_key : x.auth,
        String(x.models),
      ]),
    ]),
  );
  lines.push("", `Virtual models (${report.models.length})`);
  if (report.models.length === 0) lines.push("  (none: use provider:model_id, e.g. openai:gpt-4o)");
  else lines.push(table(report.models.map((m) => [m.name, m.strategy, m.endpoints.join(", ")])));
  if (report.warnings.length > 0) {
    lines.push("", "Warnings");
    for (const warning of report.warnings) lines.push(`  ${warning}`);
  }
  return `${lines.join("\n")}\n`;
}

export class StatusCommand extends BitrouterCommand {
  static override paths = [["status"]];
  static override usage = Command.Usage({
    description: "Print resolved paths, listen address, configured providers, and daemon status",
    details:
      "API keys are never printed: a provider's key is reported as present or absent. When the server runs, adds its PID, uptime, URL and request counters from the control socket. A PID file left by a crashed server, or naming a process that is not a BitRouter server, is reported and removed. A configuration that does not load is reported on stderr (exit 1); the daemon's state is printed all the same.",
    examples: [
      ["Show the status", "$0 status"],
      ["Machine-readable", "$0 status --json"],
      ["Use another home directory", "$0 status --home-dir /srv/bitrouter"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print the status as JSON" });

  async run(): Promise<number> {
    const files = await this.daemonPaths({ warn: false });
    if (files.configError) {
      // The daemon may run fine on the configuration it loaded earlier: report it with the error.
      const daemon = await inspectDaemon(files);
      const report = {
        version: VERSION,
        config_error: files.configError.message,
        paths: { home: files.home, config_file: files.configFile, run_dir: files.runDir, pid_file: files.pidFile, control_socket: files.controlSocket },
        daemon: { ...daemon, pid_file: files.pidFile, ...withCleaned(await cleanStale(files, daemon)) },
      };
      if (this.json) this.context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        this.context.stdout.write(
          `BitRouter ${VERSION}\n\n${table([["home", files.home], ["config", `${files.configFile} (does not load: see the error)`], ["run dir", files.runDir], ["daemon", describeDaemon(report.daemon, this.paint("stdout"))], ...(daemon.state === "running" && daemon.server ? serverRows(daemon.server) : [])])}\n\n`,
        );
        this.context.stderr.write(
          `${files.configError.message}\n(A running server keeps the configuration it loaded; fix this before the next start or reload.)\n`,
        );
      }
      return 1;
    }
    const loaded = await this.loadConfig();
    const daemon = await inspectDaemon(loaded.paths);
    const report = buildStatusReport(loaded, daemon, await cleanStale(loaded.paths, daemon));
    if (report.created.length > 0) {
      this.context.stderr.write(`Created ${report.created.join(", ")}\n`);
    }
    this.context.stdout.write(this.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, this.paint("stdout")));
    return 0;
  }
}
