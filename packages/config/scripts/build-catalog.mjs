// Compile catalog/*.yaml (validated by the package's own schema) into dist/catalog.json,
// which builtinProviders() reads at start-up instead of parsing ~7000 lines of YAML. The hash of
// the YAML goes with it: a catalog built from other YAML is not used.
import { writeFileSync } from "node:fs";
import { catalogSourceHash, loadCatalogYaml } from "../dist/catalog.js";

writeFileSync(new URL("../dist/catalog.json", import.meta.url), `${JSON.stringify({ sources: catalogSourceHash(), providers: loadCatalogYaml() })}\n`);
