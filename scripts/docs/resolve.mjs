// The generators run from scripts/docs/ but import the workspace packages as the private docs
// package (docs/package.json) depends on them: resolve each name from there.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(new URL("../../docs/package.json", import.meta.url));

/** Imports a package as docs/ sees it (its built dist/). */
export function load(name) {
  return import(pathToFileURL(require.resolve(name)).href);
}
