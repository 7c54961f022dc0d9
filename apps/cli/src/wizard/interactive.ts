// The interactive init wizard: questions only; writing is the caller's job (see plan.ts).
import { checkbox, confirm, input, password, select } from "@inquirer/prompts";
import type { LoadedConfig } from "@bitrouter/config";
import {
  checkApiBase,
  checkEnvName,
  hasExistingSetup,
  checkKey,
  checkListen,
  checkModelName,
  describePlan,
  parseEndpoints,
  providerOptions,
  uncataloguedEndpoints,
  type ProviderChoice,
  type Strategy,
  type WizardPlan,
} from "./plan.js";
import { verifyKey } from "./verify.js";

export interface WizardIO {
  /** The merged environment (.env under the process environment): tells which keys exist. */
  env: Record<string, string>;
  print(line: string): void;
  verify: boolean;
  /** Shows that a slow step (a key check) is running. */
  wait<T>(label: string, work: Promise<T>): Promise<T>;
  /** Whether serving on this address needs an operator account that does not exist yet. */
  needsAccount(listen: string): Promise<boolean>;
}

/**
 * Ask the questions and return the plan, or undefined when the user declined to write it.
 * Ctrl+C rejects with inquirer's ExitPromptError.
 */
export async function runWizard(loaded: LoadedConfig, configText: string, io: WizardIO): Promise<WizardPlan | undefined> {
  const { paths } = loaded;
  io.print("BitRouter setup");
  io.print(`  config  ${paths.configFile}`);
  io.print(`  keys    ${paths.envFile} (mode 600; bitrouter.yaml only references them as \${VAR})`);
  io.print("");

  if (hasExistingSetup(configText)) {
    const add = await confirm({ message: "A configuration already exists. Add to it (comments and other sections are kept)?", default: true });
    if (!add) return undefined;
  }

  const options = providerOptions(loaded);
  const picked = await checkbox({
    message: "Providers to set up (space to select, enter to confirm)",
    choices: options.map((o) => ({
      name: `${o.name.padEnd(11)} ${o.apiBase}${io.env[o.defaultVar] ? `  (${o.defaultVar} is set)` : ""}`,
      value: o.name,
      checked: false,
    })),
    pageSize: options.length,
    required: true,
  });

  const providers: ProviderChoice[] = [];
  for (const name of picked) {
    const builtin = options.find((o) => o.name === name)!;
    const base = (
      await input({
        message: `${name}: API base URL (another for a local or compatible server)`,
        default: builtin.apiBase,
        validate: (v) => checkApiBase(v.trim()) ?? true,
      })
    ).trim();
    const option = { ...builtin, apiBase: base };
    const apiBase = base === builtin.apiBase ? {} : { apiBase: base };
    const existing = io.env[option.defaultVar];
    const how = await select<"existing" | "paste" | "reference">({
      message: `${name}: API key`,
      choices: [
        ...(existing ? [{ name: `Use ${option.defaultVar}, already set`, value: "existing" as const }] : []),
        { name: `Paste a key (saved to .env as ${option.defaultVar})`, value: "paste" as const },
        { name: "Reference another environment variable", value: "reference" as const },
      ],
    });
    const pasteKey = async (): Promise<ProviderChoice> => {
      const key = await password({ message: `${name} API key`, mask: "*", validate: (v) => checkKey(v) ?? true });
      return { name, keyVar: option.defaultVar, key: key.trim(), ...apiBase };
    };
    let choice: ProviderChoice | undefined;
    if (how === "existing") {
      choice = { name, keyVar: option.defaultVar, ...apiBase };
    } else if (how === "paste") {
      choice = await pasteKey();
    } else {
      const keyVar = await input({ message: "Variable name", default: option.defaultVar, validate: (v) => checkEnvName(v.trim()) ?? true });
      choice = { name, keyVar: keyVar.trim(), ...apiBase };
      if (!io.env[choice.keyVar]) io.print(`  note: ${choice.keyVar} is not set yet; set it (or add it to .env) before serving`);
    }
    // A rejected key is asked for again (a typo at the paste is the usual cause) until it passes,
    // or the user keeps it anyway or skips the provider.
    while (io.verify && choice) {
      const key = choice.key ?? io.env[choice.keyVar];
      if (!key) break;
      const result = await io.wait(`Checking the ${name} key...`, verifyKey(option, key));
      io.print(`  ${result.ok ? "ok" : "note"}: ${result.message}`);
      if (result.ok || !result.rejected) break;
      const next = await select<"again" | "keep" | "skip">({
        message: `${name} rejected the key. What now?`,
        choices: [
          { name: "Enter another key", value: "again" },
          { name: `Skip ${name}`, value: "skip" },
          { name: "Keep this key anyway", value: "keep" },
        ],
      });
      if (next === "keep") break;
      choice = next === "again" ? await pasteKey() : undefined;
    }
    if (!choice) continue;
    providers.push(choice);
  }
  if (providers.length === 0) {
    io.print("No provider left to set up.");
    return undefined;
  }

  const plan: WizardPlan = { providers };
  const knownProvider = (p: string) => providers.some((c) => c.name === p) || p in loaded.config.providers;
  if (await confirm({ message: "Define a virtual model (one name routed to one or more endpoints)?", default: true })) {
    const name = await input({ message: "Model name", default: "default", validate: (v) => checkModelName(v.trim()) ?? true });
    const first = options.find((o) => o.name === providers[0]!.name)!;
    const endpointsText = await input({
      message: "Endpoints (provider:model_id, comma-separated, in priority order)",
      default: `${first.name}:${first.suggestedModel}`,
      validate: (v) => {
        const parsed = parseEndpoints(v, knownProvider);
        return typeof parsed === "string" ? parsed : true;
      },
    });
    const endpoints = parseEndpoints(endpointsText, knownProvider) as string[];
    for (const e of uncataloguedEndpoints(loaded, endpoints)) io.print(`  note: ${e} is not in the provider's catalog: it is sent as is, with no pricing`);
    let strategy: Strategy = "priority";
    if (endpoints.length > 1) {
      strategy = await select<Strategy>({
        message: "Strategy",
        choices: [
          { name: "priority: the first endpoint, failing over to the next", value: "priority" },
          { name: "load_balance: round-robin across the endpoints", value: "load_balance" },
        ],
      });
    }
    plan.model = { name: name.trim(), strategy, endpoints };
  }

  const listen = await input({ message: "Listen address", default: loaded.config.server.listen, validate: (v) => checkListen(v.trim()) ?? true });
  if (listen.trim() !== loaded.config.server.listen) plan.listen = listen.trim();
  if (await io.needsAccount(listen.trim())) {
    io.print(
      `  note: ${listen.trim()} is reachable from the network: the server will require API keys there, so it needs an operator account (\`bitrouter account -g\`) before it starts`,
    );
  }

  io.print("");
  io.print("About to write:");
  for (const line of describePlan(plan, paths)) io.print(`  ${line}`);
  return (await confirm({ message: "Write these files?", default: true })) ? plan : undefined;
}
