// The interactive init wizard: questions only; writing is the caller's job (see plan.ts).
import { checkbox, confirm, input, password, select } from "@inquirer/prompts";
import type { LoadedConfig } from "@bitrouter/config";
import { checkEnvName, hasExistingSetup, checkKey, checkListen, checkModelName, describePlan, parseEndpoints, providerOptions, uncataloguedEndpoints, type ProviderChoice, type Strategy, type WizardPlan } from "./plan.js";
import { verifyKey } from "./verify.js";

export interface WizardIO {
  /** The merged environment (.env under the process environment): tells which keys exist. */
  env: Record<string, string>;
  print(line: string): void;
  verify: boolean;
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
    const option = options.find((o) => o.name === name)!;
    const existing = io.env[option.defaultVar];
    const how = await select<"existing" | "paste" | "reference">({
      message: `${name}: API key`,
      choices: [
        ...(existing ? [{ name: `Use ${option.defaultVar}, already set`, value: "existing" as const }] : []),
        { name: `Paste a key (saved to .env as ${option.defaultVar})`, value: "paste" as const },
        { name: "Reference another environment variable", value: "reference" as const },
      ],
    });
    let choice: ProviderChoice;
    if (how === "existing") {
      choice = { name, keyVar: option.defaultVar };
    } else if (how === "paste") {
      const key = await password({ message: `${name} API key`, mask: "*", validate: (v) => checkKey(v) ?? true });
      choice = { name, keyVar: option.defaultVar, key: key.trim() };
    } else {
      const keyVar = await input({ message: "Variable name", default: option.defaultVar, validate: (v) => checkEnvName(v.trim()) ?? true });
      choice = { name, keyVar: keyVar.trim() };
      if (!io.env[choice.keyVar]) io.print(`  note: ${choice.keyVar} is not set yet; set it (or add it to .env) before serving`);
    }
    const key = choice.key ?? io.env[choice.keyVar];
    if (io.verify && key) {
      const result = await verifyKey(option, key);
      io.print(`  ${result.ok ? "ok" : "note"}: ${result.message}`);
      if (!result.ok && result.rejected) {
        const keep = await confirm({ message: `Keep the ${name} key anyway?`, default: false });
        if (!keep) continue;
      }
    }
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

  io.print("");
  io.print("About to write:");
  for (const line of describePlan(plan, paths)) io.print(`  ${line}`);
  return (await confirm({ message: "Write these files?", default: true })) ? plan : undefined;
}
