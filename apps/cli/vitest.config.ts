import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

// The CLI tests spawn the built binary (dist/bin.js): global-setup brings dist up to date first.
export default mergeConfig(sharedConfig, { test: { globalSetup: ["./test/global-setup.ts"] } });
