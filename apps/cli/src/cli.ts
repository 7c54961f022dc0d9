// Builds the bitrouter Cli. To add a command: create src/commands/<name>.ts extending
// BitrouterCommand (global flags, config loading and exit codes come with it) and register it here.
import { Builtins, Cli, Command, Option, type BaseContext } from "clipanion";
import { EXIT_OK, EXIT_USAGE } from "./base.js";
import { AccountCommand } from "./commands/account.js";
import { CompletionCommand } from "./commands/completion.js";
import { DashboardCommand } from "./commands/dashboard.js";
import { InitCommand } from "./commands/init.js";
import { KeygenCommand } from "./commands/keygen.js";
import { KeysCommand } from "./commands/keys.js";
import { ReloadCommand } from "./commands/reload.js";
import { RestartCommand } from "./commands/restart.js";
import { RouteAddCommand, RouteListCommand, RouteRmCommand } from "./commands/route.js";
import { ToolsDiscoverCommand, ToolsListCommand, ToolsStatusCommand } from "./commands/tools.js";
import { AgentsListCommand, AgentsStatusCommand } from "./commands/agents.js";
import { ServeCommand } from "./commands/serve.js";
import { StartCommand } from "./commands/start.js";
import { StatusCommand } from "./commands/status.js";
import { StopCommand } from "./commands/stop.js";
import { UsageCommand } from "./commands/usage.js";
import { colourEnabled } from "./colour.js";
import { WalletCommand } from "./commands/wallet.js";
import { suggestOption } from "./suggest.js";
import { VERSION } from "./version.js";

/**
 * What a flag's value is, for the help (`--home-dir <path>`; the parser alone would print `#0`).
 * A flag not listed here is shown with its own name: `--models <models>`.
 */
const PLACEHOLDERS: Record<string, string> = {
  "--home-dir": "path",
  "--config-file": "path",
  "--env-file": "path",
  "--run-dir": "path",
  "--logs-dir": "path",
  "--db": "url",
  "--api-base": "url",
  "--listen": "host:port",
  "--timeout": "duration",
  "--start-timeout": "duration",
  "--exp": "duration",
  "--since": "time",
  "--until": "time",
  "--budget": "micro-usd",
  "--api-key": "key",
  "--api-key-env": "var",
  "--model": "name=provider:model_id,...",
  "--revoke": "id|name",
  "--rm": "id|name",
  "--show": "id|name",
  "--set": "index|label|prefix",
  "--key": "key-id",
};

export function withPlaceholders(usage: string): string {
  const named = usage.replace(/((?:-[\w-]+,)*(--[\w-]+)) #0/g, (_all, names: string, long: string) => `${names} <${PLACEHOLDERS[long] ?? long.slice(2)}>`);
  // The option list was aligned for the "#0" forms: align it again.
  // (Coloured help wraps each definition in escape sequences: they take no columns.)
  const lines = named.split("\n");
  const option = /^ {2}((?:\x1b\[[0-9;]*m)?-\S.*?) {2,}(\S.*)$/;
  const visible = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "").length;
  const width = Math.max(0, ...lines.map((line) => visible(option.exec(line)?.[1] ?? "")));
  return lines
    .map((line) =>
      line.replace(option, (_all, definition: string, description: string) => `  ${definition}${" ".repeat(width - visible(definition))}    ${description}`),
    )
    .join("\n");
}

/** The clipanion Cli with real placeholders in every help text. */
class BitrouterCli extends Cli {
  override usage(...args: Parameters<Cli["usage"]>): string {
    return withPlaceholders(super.usage(...args));
  }
}

/** `bitrouter -V`, as well as clipanion's -v / --version. */
class VersionCommand extends Builtins.VersionCommand {
  static override paths = [["-v"], ["-V"], ["--version"]];
}

/** `bitrouter help [command...]`: the same as `bitrouter [command...] --help`. */
class HelpCommand extends Command {
  static override paths = [["help"]];
  static override usage = Command.Usage({ description: "Show the help of bitrouter, or of one command (`bitrouter help start`)" });
  names = Option.Rest();

  override async execute(): Promise<number> {
    return this.cli.run([...this.names, "--help"]);
  }
}

export function buildCli(options: { colours?: boolean } = {}): Cli {
  const cli = new BitrouterCli({ binaryLabel: "BitRouter", binaryName: "bitrouter", binaryVersion: VERSION, enableColors: options.colours ?? false });
  cli.register(Builtins.HelpCommand);
  cli.register(VersionCommand);
  cli.register(HelpCommand);
  cli.register(StatusCommand);
  cli.register(ServeCommand);
  cli.register(StartCommand);
  cli.register(StopCommand);
  cli.register(RestartCommand);
  cli.register(ReloadCommand);
  cli.register(RouteListCommand);
  cli.register(RouteAddCommand);
  cli.register(RouteRmCommand);
  cli.register(UsageCommand);
  cli.register(ToolsListCommand);
  cli.register(ToolsStatusCommand);
  cli.register(ToolsDiscoverCommand);
  cli.register(AgentsListCommand);
  cli.register(AgentsStatusCommand);
  cli.register(InitCommand);
  cli.register(DashboardCommand);
  cli.register(AccountCommand);
  cli.register(KeygenCommand);
  cli.register(KeysCommand);
  cli.register(CompletionCommand);
  cli.register(WalletCommand);
  return cli;
}

/**
 * `--budget -5`: the parser takes "-5" for an option and reports "Not enough arguments". A negative
 * number after a long option is its value (`--budget=-5`), so the option's own check can say what
 * is wrong with it.
 */
export function negativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === "--") return [...out, ...args.slice(i)];
    if (/^--[^=]+$/.test(arg) && next !== undefined && /^-\d+(\.\d+)?$/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Run the CLI: 0 ok, 1 failure, 2 usage error (unknown command, bad flags). Clipanion's own
 * errors go to stderr with the usage; command failures are reported by BitrouterCommand.
 */
export async function runCli(args: string[], context: BaseContext = Cli.defaultContext): Promise<number> {
  const cli = buildCli({ colours: colourEnabled(context.stdout as { isTTY?: boolean }, context.env) });
  let command: Command<BaseContext>;
  try {
    command = cli.process(negativeValues(args), context);
  } catch (error) {
    if (args.length === 0) {
      // No command and no default command registered: show the help.
      context.stdout.write(cli.usage(null));
      return EXIT_OK;
    }
    context.stderr.write(cli.error(error));
    const option = suggestOption(error);
    if (option) context.stderr.write(`Did you mean ${option}?\n`);
    return EXIT_USAGE;
  }
  return cli.run(command, context);
}
