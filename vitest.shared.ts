// Shared vitest settings: tests import sibling packages from their TypeScript sources
// (the "bitrouter-source" export condition), so a test run never needs a stale dist/.
import { defineConfig } from "vitest/config";

export const sharedConfig = defineConfig({
  resolve: { conditions: ["bitrouter-source", "import", "module", "node", "default"] },
  ssr: { resolve: { conditions: ["bitrouter-source", "import", "module", "node", "default"], externalConditions: ["bitrouter-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
