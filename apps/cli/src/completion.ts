// Shell completion scripts for bash, zsh and fish, generated from the registered commands (their
// paths, flags and descriptions), so a new command or flag completes without touching this file.

/** What completion needs of one command (from clipanion's `cli.definitions()`). */
export interface CommandSpec {
  /** The words after `bitrouter`, e.g. ["route", "add"]; [] for the default command. */
  words: string[];
  description: string;
  flags: { names: string[]; takesValue: boolean; description: string }[];
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

export function specsFrom(definitions: { path: string; description?: string; options: { definition: string; description?: string }[] }[]): CommandSpec[] {
  return definitions
    .map((d) => ({
      words: d.path.split(" ").slice(1),
      description: (d.description ?? "").trim().split("\n")[0] ?? "",
      flags: d.options.map((o) => {
        const [names = "", ...rest] = o.definition.split(" ");
        return { names: names.split(","), takesValue: rest.length > 0, description: (o.description ?? "").trim() };
      }),
    }))
    .filter((c) => !c.words.some((w) => w.startsWith("-"))); // -h, -v and their like are flags, not commands
}

export function completionScript(shell: Shell, specs: CommandSpec[]): string {
  switch (shell) {
    case "bash":
      return `${bashFunction(specs)}complete -o default -F _bitrouter bitrouter\n`;
    case "zsh":
      // zsh runs the bash function through its bash-completion emulation.
      return `# bitrouter completion for zsh: eval "$(bitrouter completion zsh)" in ~/.zshrc\nautoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n${bashFunction(specs)}complete -o default -F _bitrouter bitrouter\n`;
    case "fish":
      return fishScript(specs);
  }
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const longNames = (spec: CommandSpec) => spec.flags.flatMap((f) => f.names);

function bashFunction(specs: CommandSpec[]): string {
  const tops = [...new Set(specs.filter((s) => s.words.length > 0).map((s) => s.words[0]!))].sort();
  const groups = tops.filter((top) => specs.some((s) => s.words[0] === top && s.words.length > 1));
  const root = specs.find((s) => s.words.length === 0);
  const cases = specs
    .filter((s) => s.words.length > 0)
    .map((s) => `    ${quote(s.words.join(" "))}) flags=${quote(longNames(s).join(" "))} ;;`)
    .join("\n");
  const valueFlags = [...new Set(specs.flatMap((s) => s.flags.filter((f) => f.takesValue).flatMap((f) => f.names)))].join("|");
  const subcommands = groups
    .map(
      (g) =>
        `    ${quote(g)}) words=${quote(
          specs
            .filter((s) => s.words[0] === g && s.words.length > 1)
            .map((s) => s.words[1])
            .join(" "),
        )} ;;`,
    )
    .join("\n");
  return `# bitrouter completion for bash: source <(bitrouter completion bash) in ~/.bashrc
_bitrouter() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" command="" word flags words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      ${valueFlags || "--never--"}) ((i++)); continue ;;
      -*) continue ;;
    esac
    if [[ -z $command ]]; then command="$word"
    elif [[ $command != *" "* && " ${groups.join(" ")} " == *" $command "* ]]; then command="$command $word"
    fi
  done
  case "$prev" in
    ${valueFlags || "--never--"}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ -z $command ]]; then
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${quote(root ? longNames(root).join(" ") : "")} -- "$cur"))
    else COMPREPLY=($(compgen -W ${quote(tops.join(" "))} -- "$cur")); fi
    return
  fi
  case "$command" in
${subcommands}
    *) words="" ;;
  esac
  if [[ -n $words && $cur != -* ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); return; fi
  case "$command" in
${cases}
    *) flags="" ;;
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); fi
}
`;
}

function fishScript(specs: CommandSpec[]): string {
  const lines = ["# bitrouter completion for fish: bitrouter completion fish > ~/.config/fish/completions/bitrouter.fish", "complete -c bitrouter -f"];
  const tops = specs.filter((s) => s.words.length > 0);
  const topWords = [...new Set(tops.map((s) => s.words[0]!))];
  for (const top of topWords) {
    const spec = tops.find((s) => s.words[0] === top && s.words.length === 1) ?? tops.find((s) => s.words[0] === top)!;
    lines.push(`complete -c bitrouter -n '__fish_use_subcommand' -a ${quote(top)} -d ${quote(spec.words.length === 1 ? spec.description : `${top} commands`)}`);
  }
  for (const spec of tops) {
    if (spec.words.length === 2) {
      lines.push(
        `complete -c bitrouter -n '__fish_seen_subcommand_from ${spec.words[0]}; and not __fish_seen_subcommand_from ${tops
          .filter((s) => s.words[0] === spec.words[0] && s.words.length === 2)
          .map((s) => s.words[1])
          .join(" ")}' -a ${quote(spec.words[1]!)} -d ${quote(spec.description)}`,
      );
    }
    const condition =
      spec.words.length === 2
        ? `__fish_seen_subcommand_from ${spec.words[0]}; and __fish_seen_subcommand_from ${spec.words[1]}`
        : `__fish_seen_subcommand_from ${spec.words[0]}`;
    for (const flag of spec.flags) {
      const names = flag.names.map((n) => (n.startsWith("--") ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(" ");
      lines.push(`complete -c bitrouter -n ${quote(condition)} ${names}${flag.takesValue ? " -r -F" : ""} -d ${quote(flag.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
