import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

// vitest 4 hands ssr.resolve.conditions to the worker as Node `--conditions` flags. The shared
// list contains "import", which makes Node's own require() pick ESM entry points of dual packages:
// pg's require("pg-pool") then gets a module namespace and fails ("Class extends value [object
// Module]"). Keep only conditions that are safe for require(); Vite adds import/require itself.
const conditions = ["bitrouter-source", "node", "development|production"];

export default defineConfig({
  ...sharedConfig,
  ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr?.resolve, conditions } },
});
