import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureInstalled } from "./install.mjs";

/** Installs the pinned clients before any test (cached after the first run); removes the throwaway homes after. */
export default function setup(): () => void {
  ensureInstalled((line) => process.stderr.write(`[e2e:clients] ${line}\n`));
  // harness.ts's TEMP_ROOT (not imported: the harness pulls in the server, which setup does not need).
  return () => rmSync(join(tmpdir(), "bitrouter-e2e-clients"), { recursive: true, force: true });
}
