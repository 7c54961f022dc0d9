// `bitrouter init`: the setup wizard (interactive on a terminal, or driven by flags with
// --non-interactive). Keys go to <home>/.env (0600); bitrouter.yaml gets ${VAR} references.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isLoopbackAddress } from "@bitrouter/auth/net";
import { parseListen, type LoadedConfig } from "@bitrouter/config";
import { Command, Option, UsageError } from "clipanion";
import { BitrouterCommand, EXIT_FAILURE, EXIT_OK } from "../base.js";
import { runWizard } from "../wizard/interactive.js";
import {
  checkApiBase,
  checkEnvName,
  checkKey,
  checkListen,
  checkModelName,
  describePlan,
  parseEndpoints,
  providerOptions,
  uncataloguedEndpoints,
  writePlan,
  type ProviderChoice,
  type WizardPlan,
} from "../wizard/plan.js";
import { verifyKey } from "../wizard/verify.js";
import { withSpinner } from "../spinner.js";

interface Output {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export class InitCommand extends BitrouterCommand {
  static override paths = [["init"]];
  static override usage = Command.Usage({
    description: "Set up providers, keys, a first virtual model and the listen address",
    details:
      "On a terminal, asks the questions. With --non-interactive, takes the answers from flags. API keys are written to <home>/.env (mode 600) and referenced from bitrouter.yaml as ${VAR}; they are never printed. Re-running adds to the existing configuration, keeping its comments and other sections. Each key is checked with a models listing unless --skip-verify. Prefer --api-key-env over --api-key: a key on the command line can end up in the shell history.",
    examples: [
      ["Interactive", "$0 init"],
      ["Reference a key already in the environment", "$0 init --non-interactive --provider openai --api-key-env OPENAI_API_KEY"],
      [
        "Two providers and a failover model",
        "$0 init --non-interactive --provider openai --provider anthropic --model smart=anthropic:claude-sonnet-4-20250514,openai:gpt-4o --strategy priority",
      ],
    ],
  });

  nonInteractive = Option.Boolean("--non-interactive", false, { description: "Take every answer from the flags below (for scripts)" });
  provider = Option.Array("--provider", { description: "A built-in provider to set up (repeatable)" });
  apiKey = Option.Array("--api-key", { description: "The provider's key, stored in .env as {PREFIX}_API_KEY (one per --provider, in order)" });
  apiKeyEnv = Option.Array("--api-key-env", { description: "Reference this variable instead (one per --provider, in order); default {PREFIX}_API_KEY" });
  apiBase = Option.Array("--api-base", {
    description: "Another endpoint for the provider: a local or compatible server, a proxy (one per --provider, in order)",
  });
  model = Option.String("--model", { description: "A virtual model: NAME=provider:model_id[,provider:model_id...]" });
  strategy = Option.String("--strategy", { description: "priority (failover in order, the default) or load_balance (round-robin); goes with --model" });
  listen = Option.String("--listen", { description: "server.listen (host:port)" });
  skipVerify = Option.Boolean("--skip-verify", false, { description: "Do not check the keys against the providers" });

  async run(): Promise<number> {
    const loaded = await this.loadConfig({ envFileMayBeMissing: true });
    // Answers given as flags are taken as given, at a terminal too (asking again would ignore them).
    if (this.nonInteractive || this.answerFlags().length > 0) return this.runFromFlags(loaded);
    if (!isTerminal(this.context)) {
      throw new UsageError("not a terminal: run `bitrouter init --non-interactive --provider NAME ...` (see `bitrouter init --help`)");
    }
    return (await interactiveInit(loaded, this.context, { verify: !this.skipVerify })) ? EXIT_OK : EXIT_FAILURE;
  }

  /** The answer flags that were given (each one answers a question of the wizard). */
  private answerFlags(): string[] {
    const given: [string, unknown][] = [
      ["--provider", this.provider],
      ["--api-key", this.apiKey],
      ["--api-key-env", this.apiKeyEnv],
      ["--api-base", this.apiBase],
      ["--model", this.model],
      ["--strategy", this.strategy],
      ["--listen", this.listen],
    ];
    return given.filter(([, value]) => value !== undefined).map(([flag]) => flag);
  }

  private async runFromFlags(loaded: LoadedConfig): Promise<number> {
    const plan = this.planFromFlags(loaded);
    const options = providerOptions(loaded);
    if (!this.skipVerify) {
      for (const choice of plan.providers) {
        const key = choice.key ?? loaded.env[choice.keyVar];
        if (!key) continue;
        const option = options.find((o) => o.name === choice.name)!;
        const result = await withSpinner(
          this.context.stderr,
          `Checking the ${choice.name} key...`,
          verifyKey({ ...option, apiBase: choice.apiBase ?? option.apiBase }, key),
        );
        if (!result.ok && result.rejected) {
          this.context.stderr.write(`Error: ${choice.name}: ${result.message}. Nothing was written (use --skip-verify to write it anyway).\n`);
          return EXIT_FAILURE;
        }
        this.context.stdout.write(`${choice.name}: ${result.message}\n`);
      }
    }
    await write(loaded, plan, this.context);
    return EXIT_OK;
  }

  private planFromFlags(loaded: LoadedConfig): WizardPlan {
    const names = this.provider ?? [];
    const keys = this.apiKey ?? [];
    const vars = this.apiKeyEnv ?? [];
    if (names.length === 0 && this.model === undefined && this.listen === undefined) {
      throw new UsageError("--non-interactive needs at least one of --provider, --model or --listen");
    }
    if (this.strategy !== undefined && this.model === undefined) throw new UsageError("--strategy goes with --model (the virtual model it routes)");
    if (keys.length > 0 && keys.length !== names.length)
      throw new UsageError(`give one --api-key per --provider (${names.length} providers, ${keys.length} keys)`);
    if (vars.length > 0 && vars.length !== names.length)
      throw new UsageError(`give one --api-key-env per --provider (${names.length} providers, ${vars.length} variables)`);
    if (keys.length > 0 && vars.length > 0) throw new UsageError("use either --api-key or --api-key-env, not both");
    const bases = this.apiBase ?? [];
    if (bases.length > 0 && bases.length !== names.length)
      throw new UsageError(`give one --api-base per --provider (${names.length} providers, ${bases.length} URLs)`);
    for (const base of bases) {
      const problem = checkApiBase(base);
      if (problem) throw new UsageError(`--api-base: ${problem}`);
    }
    const options = providerOptions(loaded);
    const providers: ProviderChoice[] = names.map((name, i) => {
      const option = options.find((o) => o.name === name);
      if (!option) throw new UsageError(`--provider: unknown provider '${name}'; choose from ${options.map((o) => o.name).join(", ")}`);
      const apiBase = bases[i] === undefined ? {} : { apiBase: bases[i] };
      const key = keys[i];
      if (key !== undefined) {
        const problem = checkKey(key);
        if (problem) throw new UsageError(`--api-key for ${name}: ${problem}`);
        return { name, keyVar: option.defaultVar, key: key.trim(), ...apiBase };
      }
      const keyVar = vars[i] ?? option.defaultVar;
      const problem = checkEnvName(keyVar);
      if (problem) throw new UsageError(`--api-key-env: ${problem}`);
      return { name, keyVar, ...apiBase };
    });
    const plan: WizardPlan = { providers };
    if (this.model !== undefined) {
      const eq = this.model.indexOf("=");
      if (eq <= 0) throw new UsageError(`--model must be NAME=provider:model_id[,...]; got '${this.model}'`);
      const name = this.model.slice(0, eq).trim();
      const nameProblem = checkModelName(name);
      if (nameProblem) throw new UsageError(`--model: ${nameProblem}`);
      const known = (p: string) => names.includes(p) || p in loaded.config.providers;
      const endpoints = parseEndpoints(this.model.slice(eq + 1), known);
      if (typeof endpoints === "string") throw new UsageError(`--model: ${endpoints}`);
      const strategy = this.strategy ?? "priority";
      if (strategy !== "priority" && strategy !== "load_balance") {
        throw new UsageError(`--strategy must be priority or load_balance; got '${strategy}'`);
      }
      plan.model = { name, strategy, endpoints };
      for (const e of uncataloguedEndpoints(loaded, endpoints))
        this.context.stderr.write(`note: ${e} is not in the provider's catalog: it is sent as is, with no pricing\n`);
    }
    if (this.listen !== undefined) {
      const problem = checkListen(this.listen);
      if (problem) throw new UsageError(`--listen: ${problem}`);
      plan.listen = this.listen;
    }
    return plan;
  }
}

function isTerminal(context: Output & { stdin: unknown }): boolean {
  return Boolean((context.stdin as { isTTY?: boolean }).isTTY && (context.stdout as { isTTY?: boolean }).isTTY);
}

/** Write the plan and show what was written (keys as "(hidden)"). */
async function write(loaded: LoadedConfig, plan: WizardPlan, out: Output & { env: NodeJS.ProcessEnv }): Promise<void> {
  const result = await writePlan(loaded, plan, out.env);
  if (!result.wroteConfig && !result.wroteEnv) {
    out.stdout.write("Nothing to change: the configuration already says this.\n");
  } else {
    out.stdout.write("Wrote:\n");
    for (const line of describePlan(plan, loaded.paths)) out.stdout.write(`  ${line}\n`);
  }
  for (const warning of result.warnings) out.stderr.write(`warning: ${warning}\n`);
  const model = plan.model?.name ?? (plan.providers[0] ? `${plan.providers[0].name}:<model_id>` : undefined);
  const listen = plan.listen ?? loaded.config.server.listen;
  if (await needsAccount(loaded, listen)) {
    out.stdout.write(
      `Next: ${listen} is reachable from the network, so the server requires API keys there: create the operator account first (\`bitrouter account -g\`), give callers keys (\`bitrouter keygen\`), then run \`bitrouter serve\`. (Without an account it refuses to start on ${listen}, unless --allow-open-network says a firewall already restricts access.)\n`,
    );
    return;
  }
  out.stdout.write(`Next: run \`bitrouter\` (dashboard and server) or \`bitrouter serve\`${model ? `, then ask for the model "${model}"` : ""}.\n`);
}

/** A non-loopback listen address with no active operator account: the server would refuse to start. */
export async function needsAccount(loaded: LoadedConfig, listen: string): Promise<boolean> {
  const address = parseListen(listen);
  if (!address || isLoopbackAddress(address.host)) return false;
  const { getActiveAccount } = await import("@bitrouter/auth");
  return (await getActiveAccount(join(loaded.paths.home, ".keys")).catch(() => undefined)) === undefined;
}

/**
 * The interactive wizard end to end (also started by bare `bitrouter` when no provider is set up).
 * True when files were written; false when the user cancelled.
 */
export async function interactiveInit(loaded: LoadedConfig, out: Output & { env: NodeJS.ProcessEnv }, options: { verify: boolean }): Promise<boolean> {
  let configText = "";
  try {
    configText = await readFile(loaded.paths.configFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  let plan: WizardPlan | undefined;
  try {
    plan = await runWizard(loaded, configText, {
      env: loaded.env,
      print: (line) => out.stdout.write(`${line}\n`),
      verify: options.verify,
      needsAccount: (listen) => needsAccount(loaded, listen),
      wait: (label, work) => withSpinner(out.stdout as { isTTY?: boolean; write(text: string): unknown }, label, work),
    });
  } catch (error) {
    if ((error as Error).name === "ExitPromptError") {
      out.stdout.write("\nSetup cancelled; nothing was written.\n");
      return false;
    }
    throw error;
  }
  if (!plan) {
    out.stdout.write("Nothing was written.\n");
    return false;
  }
  await write(loaded, plan, out);
  return true;
}
