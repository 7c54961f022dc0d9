import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../../vitest.shared.ts";

// The real-clients suite (`pnpm e2e:clients`): installs pinned clients once (cached), then drives each
// CLI and SDK as a child process against the server. Sequential: the clients are heavy processes.
export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      root: new URL(".", import.meta.url).pathname,
      include: ["clients/**/*.e2e.ts"],
      globalSetup: ["clients/global-setup.ts"],
      fileParallelism: false,
      testTimeout: 240_000,
      hookTimeout: 60_000,
    },
  }),
);
