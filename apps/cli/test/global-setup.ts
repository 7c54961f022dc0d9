// Bring dist/ up to date (the CLI and @bitrouter/config through its project reference) before the
// tests spawn dist/bin.js. A no-op when turbo already ran the build. If the build fails (e.g.
// another command is half-written in a shared checkout), the tests run against the last good
// build when there is one: typecheck is what reports compile errors.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const cliDir = fileURLToPath(new URL("..", import.meta.url));
  const catalogScript = fileURLToPath(new URL("../../../packages/config/scripts/build-catalog.mjs", import.meta.url));
  try {
    execFileSync(process.execPath, [tsc, "-b", cliDir], { stdio: "pipe" });
  } catch (error) {
    if (!existsSync(fileURLToPath(new URL("../dist/bin.js", import.meta.url)))) throw error;
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? "";
    console.warn(`apps/cli: build failed, testing the previous dist/:\n${output}`);
  }
  execFileSync(process.execPath, [catalogScript], { stdio: "inherit" });
}
