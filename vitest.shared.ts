// Shared vitest settings: tests import sibling packages from their TypeScript sources
// (the "bitrouter-source" export condition), so a test run never needs a stale dist/.
import { defineConfig } from "vitest/config";

// vitest 4 hands ssr.resolve.conditions to the worker as Node `--conditions` flags. "import" there
// makes Node's own require() pick ESM entry points of dual packages (pg's require("pg-pool") then
// gets a module namespace), so list only conditions that are safe for require(); Vite adds
// import/require itself.
const conditions = ["bitrouter-source", "node", "development|production"];

export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["bitrouter-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
