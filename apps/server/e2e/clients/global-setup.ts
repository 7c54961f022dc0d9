import { ensureInstalled } from "./install.js";

/** Installs the pinned clients before any test (cached after the first run). */
export default function setup(): void {
  ensureInstalled((line) => process.stderr.write(`[e2e:clients] ${line}\n`));
}
