// Build the CLI (and @bitrouter/config through its project reference) before spawning dist/bin.js.
// A no-op when turbo already ran the build.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const cliDir = fileURLToPath(new URL("..", import.meta.url));
  execFileSync(process.execPath, [tsc, "-b", cliDir], { stdio: "inherit" });
  execFileSync(process.execPath, [fileURLToPath(new URL("../../../packages/config/scripts/build-catalog.mjs", import.meta.url))], { stdio: "inherit" });
}
