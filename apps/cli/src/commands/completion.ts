// `bitrouter completion bash|zsh|fish`: prints the shell's completion script.
import { Command, Option } from "clipanion";
import { EXIT_USAGE } from "../base.js";
import { SHELLS, completionScript, specsFrom, type Shell } from "../completion.js";

export class CompletionCommand extends Command {
  static override paths = [["completion"]];
  static override usage = Command.Usage({
    description: "Print the shell completion script (bash, zsh or fish)",
    details: "Completes commands, subcommands and flags. Load it from your shell's startup file, as the examples show.",
    examples: [
      ["bash (~/.bashrc)", "source <($0 completion bash)"],
      ["zsh (~/.zshrc)", 'eval "$($0 completion zsh)"'],
      ["fish", "$0 completion fish > ~/.config/fish/completions/bitrouter.fish"],
    ],
  });

  shell = Option.String({ name: "shell" });

  override async execute(): Promise<number> {
    if (!SHELLS.includes(this.shell as Shell)) {
      this.context.stderr.write(`Usage error: completion: "${this.shell}" is not one of ${SHELLS.join(", ")}\n`);
      return EXIT_USAGE;
    }
    this.context.stdout.write(completionScript(this.shell as Shell, specsFrom(this.cli.definitions())));
    return 0;
  }
}
