// Builds the bitrouter Cli. To add a command: create src/commands/<name>.ts extending
// BitrouterCommand (global flags, config loading and exit codes come with it) and register it here.
import { Builtins, Cli, type BaseContext, type Command } from "clipanion";
import { EXIT_OK, EXIT_USAGE } from "./base.js";
import { AccountCommand } from "./commands/account.js";
import { DashboardCommand } from "./commands/dashboard.js";
import { InitCommand } from "./commands/init.js";
import { KeygenCommand } from "./commands/keygen.js";
import { KeysCommand } from "./commands/keys.js";
import { ReloadCommand } from "./commands/reload.js";
import { RestartCommand } from "./commands/restart.js";
import { RouteAddCommand, RouteListCommand, RouteRmCommand } from "./commands/route.js";
import { ServeCommand } from "./commands/serve.js";
import { StartCommand } from "./commands/start.js";
import { StatusCommand } from "./commands/status.js";
import { StopCommand } from "./commands/stop.js";
import { UsageCommand } from "./commands/usage.js";
import { WalletCommand } from "./commands/wallet.js";
import { suggestOption } from "./suggest.js";
import { VERSION } from "./version.js";

export function buildCli(): Cli {
  const cli = new Cli({ binaryLabel: "BitRouter", binaryName: "bitrouter", binaryVersion: VERSION, enableColors: false });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
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
  cli.register(InitCommand);
  cli.register(DashboardCommand);
  cli.register(AccountCommand);
  cli.register(KeygenCommand);
  cli.register(KeysCommand);
  cli.register(WalletCommand);
  return cli;
}

/**
 * Run the CLI: 0 ok, 1 failure, 2 usage error (unknown command, bad flags). Clipanion's own
 * errors go to stderr with the usage; command failures are reported by BitrouterCommand.
 */
export async function runCli(args: string[], context: BaseContext = Cli.defaultContext): Promise<number> {
  const cli = buildCli();
  let command: Command<BaseContext>;
  try {
    command = cli.process(args, context);
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
