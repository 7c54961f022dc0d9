import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../../vitest.shared.ts";

// Benchmarks print their own table (µs per KB, µs per chunk); they are not part of `test`.
export default mergeConfig(sharedConfig, defineConfig({ test: { include: ["bench/**/*.bench.ts"], testTimeout: 300_000 } }));
