// `npm` for the docs' install blocks (docs/test/install.test.ts): the real npm (DOCS_REAL_NPM), with
// the names this repository has not published mapped to the tarballs the test packed
// (DOCS_NPM_SPECS: name -> file:<tarball>), as the registry would serve them:
// - `npm install -g @bitrouter/cli` installs every packed @bitrouter/* tarball (the CLI's closure);
// - `npm install --prefix <dir> <name>` installs the tarball, with `overrides` in <dir>/package.json
//   pointing the peers it pulls in (@bitrouter/providers) at theirs.
// The global prefix (npm_config_prefix) and better-sqlite3's local prebuild come from the environment.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NPM_ATTEMPT_PAUSE_MS, NPM_INSTALL_ATTEMPTS, NPM_INSTALL_FLAGS, TRANSIENT_NPM_ERROR } from "../../scripts/pack.mjs";

const specs = JSON.parse(process.env.DOCS_NPM_SPECS ?? "{}");
const args = process.argv.slice(2);
const mapped = [];
let prefix;
if (args[0] === "install" || args[0] === "i") {
  const global = args.includes("-g") || args.includes("--global");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--prefix") prefix = args[i + 1];
    const name = arg.replace(/(.)@[^/]*$/, "$1"); // @scope/name@latest -> @scope/name
    if (i === 0 || arg.startsWith("-") || args[i - 1] === "--prefix" || !(name in specs)) mapped.push(arg);
    else if (global) mapped.push(...Object.entries(specs).flatMap(([n, spec]) => (n.startsWith("@bitrouter/") ? [spec.slice("file:".length)] : [])));
    else mapped.push(specs[name]);
  }
  if (!global && prefix && mapped.some((arg) => arg.startsWith("file:"))) {
    mkdirSync(prefix, { recursive: true });
    const file = join(prefix, "package.json");
    const manifest = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
    // Not the names installed here: npm refuses an override of a direct dependency.
    const installed = mapped.filter((arg) => arg.startsWith("file:"));
    const overrides = Object.fromEntries(Object.entries(specs).filter(([, spec]) => !installed.includes(spec)));
    writeFileSync(file, JSON.stringify({ ...manifest, overrides: { ...manifest.overrides, ...overrides } }, null, 2));
  }
  // Cache first, quick retries, quiet (see NPM_INSTALL_FLAGS).
  mapped.push(...NPM_INSTALL_FLAGS);
} else {
  mapped.push(...args);
}
// An install that failed on a transient registry error runs again (see TRANSIENT_NPM_ERROR); npm's
// errors are passed on either way.
const attempts = args[0] === "install" || args[0] === "i" ? NPM_INSTALL_ATTEMPTS : 1;
let status = 1;
for (let attempt = 1; attempt <= attempts; attempt++) {
  const npm = spawnSync(process.execPath, [process.env.DOCS_REAL_NPM, ...mapped], { stdio: ["inherit", "inherit", "pipe"] });
  process.stderr.write(npm.stderr);
  status = npm.status ?? 1;
  if (status === 0 || attempt === attempts || !TRANSIENT_NPM_ERROR.test(npm.stderr.toString())) break;
  process.stderr.write(
    `(npm install failed on a transient registry error: attempt ${attempt + 1} of ${attempts} in ${(NPM_ATTEMPT_PAUSE_MS * attempt) / 1000} s)\n`,
  );
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, NPM_ATTEMPT_PAUSE_MS * attempt); // this wrapper has nothing else to do meanwhile
}
process.exit(status);
