// Payments and OpenTelemetry are optional peer dependencies: a config that needs one that is not
// installed must say which package to install, at the field that asked for it.
import { ConfigError } from "@bitrouter/config";
import { describe, expect, it } from "vitest";
import { importOptional } from "../src/optional.js";

// A variable specifier: the type checker must not try to resolve a package that does not exist.
const load = (specifier: string) => () => import(specifier);

describe("importOptional", () => {
  it("a missing package is a ConfigError naming it, the install command and the field", async () => {
    const error = await importOptional("@bitrouter/not-installed", load("@bitrouter/not-installed"), "mpp.enabled").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.path).toBe("mpp.enabled");
    expect((error as Error).message).toContain("npm install -g @bitrouter/not-installed");
  });

  it("an installed package loads", async () => {
    const mod = await importOptional("@opentelemetry/api", load("@opentelemetry/api"), "tracing");
    expect(typeof (mod as { trace?: unknown }).trace).toBe("object");
  });

  it("another missing module (a broken install of its dependencies) is not reported as the package missing", async () => {
    const error = await importOptional("@bitrouter/payments", load("@bitrouter/not-installed"), "mpp.enabled").catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect((error as { code?: string }).code).toBe("ERR_MODULE_NOT_FOUND");
  });
});
