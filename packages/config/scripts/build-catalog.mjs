// Compile catalog/*.yaml (validated by the package's own schema) into dist/catalog.json,
// which builtinProviders() reads at start-up instead of parsing ~7000 lines of YAML.
import { writeFileSync } from "node:fs";
import { loadCatalogYaml } from "../dist/catalog.js";

writeFileSync(new URL("../dist/catalog.json", import.meta.url), `${JSON.stringify(loadCatalogYaml())}\n`);
