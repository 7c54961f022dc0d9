#!/usr/bin/env node
// A loopback npm registry for the tests and scripts that install the packed packages with npm (the
// global CLI, the docs' install blocks, the embedding and provider examples, install-size.mjs). It
// serves the workspace's packed tarballs under their own names, as the public registry will once
// they are published, and every other package at the versions pnpm installed here
// (node_modules/.pnpm, what the lockfile pins), each packed on first request like `npm pack` would.
// So those installs resolve and lay out the tree exactly as npm does for a user, yet ask nothing of
// the public registry: this machine's registry now and then answers every request for many minutes
// with TLS errors (SELF_SIGNED_CERT_IN_CHAIN), which ran cold-cache installs past any time limit.
// A name pnpm did not install is a 404 that says so (an optional dependency npm then skips).
//
//   node scripts/registry.mjs <tarball>...   # prints its URL, serves until stdin closes
//
// From code: `const registry = await startRegistry(tarballs)`, then run npm with `registry.env`.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const WORKSPACE = fileURLToPath(new URL("..", import.meta.url));
/** Packed third-party tarballs, kept between runs (a name@version's files do not change). */
const CACHE = join(WORKSPACE, "node_modules/.cache/bitrouter-registry");

/**
 * Starts the registry in a child process (so a caller may block on npm meanwhile) serving
 * `tarballs` (packed by scripts/pack.mjs). `env` points npm at it, with an empty cache of its own so
 * every package comes from here. The child exits with its parent.
 */
export async function startRegistry(tarballs) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...tarballs], { stdio: ["pipe", "pipe", "inherit"] });
  const url = await new Promise((resolveUrl, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the test registry exited (${code}) before it listened`)));
    createInterface({ input: child.stdout }).once("line", resolveUrl);
  });
  const cache = mkdtempSync(join(tmpdir(), "bitrouter-npm-cache-"));
  return {
    url,
    env: {
      npm_config_registry: url,
      npm_config_cache: cache,
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    },
    close() {
      child.stdin.end();
      rmSync(cache, { recursive: true, force: true });
    },
  };
}

/** name -> version -> package directory, for every package pnpm installed in the workspace. */
function installedPackages() {
  const store = join(WORKSPACE, "node_modules/.pnpm");
  const found = new Map();
  const add = (dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (!found.has(manifest.name)) found.set(manifest.name, new Map());
    found.get(manifest.name).set(manifest.version, dir);
  };
  for (const entry of readdirSync(store)) {
    const modules = join(store, entry, "node_modules");
    if (!existsSync(modules)) continue;
    // The entry's own package is the one real directory there; its dependencies are links.
    for (const name of readdirSync(modules)) {
      const dir = join(modules, name);
      if (!lstatSync(dir).isDirectory()) continue;
      if (!name.startsWith("@")) add(dir);
      else for (const sub of readdirSync(dir)) if (lstatSync(join(dir, sub)).isDirectory()) add(join(dir, sub));
    }
  }
  return found;
}

/** Orders versions like semver for picking `latest`: numbers first, a release above its prereleases. */
function compareVersions(a, b) {
  const [coreA, preA] = a.split(/-(.*)/s);
  const [coreB, preB] = b.split(/-(.*)/s);
  const numsA = coreA.split(".").map(Number);
  const numsB = coreB.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (numsA[i] !== numsB[i]) return numsA[i] - numsB[i];
  if (!preA || !preB) return (preA ? -1 : 0) - (preB ? -1 : 0);
  return preA < preB ? -1 : preA > preB ? 1 : 0;
}

/**
 * The package directory as a tarball in the layout `npm pack` makes (everything under `package/`),
 * cached. Left out: nested node_modules (pnpm's build scratch) unless the package bundles its
 * dependencies, and a native addon's build/ (its install script builds it again, as for a user).
 */
function packDirectory(name, version, dir) {
  const file = join(CACHE, `${name.replace("/", "+")}-${version}.tgz`);
  if (existsSync(file)) return file;
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const exclude = [];
  if (!manifest.bundleDependencies && !manifest.bundledDependencies) exclude.push("--exclude=./node_modules");
  if (existsSync(join(dir, "binding.gyp"))) exclude.push("--exclude=./build");
  mkdirSync(CACHE, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  // Links stored as the files they point at: npm's extraction drops link entries, and pnpm's store
  // hard-links identical files.
  execFileSync("tar", [
    "-czf",
    partial,
    "--dereference",
    "--hard-dereference",
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    ...exclude,
    "--transform=s,^\\.,package,",
    "-C",
    dir,
    ".",
  ]);
  // Another process packing the same package at once: the first file in place wins.
  try {
    linkSync(partial, file);
  } catch (error) {
    if (error.code !== "EEXIST") throw error;
  } finally {
    rmSync(partial, { force: true });
  }
  return file;
}

function dist(file, url) {
  const bytes = readFileSync(file);
  return {
    tarball: url,
    integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
    shasum: createHash("sha1").update(bytes).digest("hex"),
  };
}

const manifestOf = (tarball) => JSON.parse(execFileSync("tar", ["-xOzf", tarball, "package/package.json"], { encoding: "utf8" }));

function serve(tarballs) {
  /** name -> version -> tarball, for the packed workspace packages. */
  const packed = new Map();
  for (const tarball of tarballs) {
    const { name, version } = manifestOf(tarball);
    if (!packed.has(name)) packed.set(name, new Map());
    packed.get(name).set(version, resolve(tarball));
  }
  const installed = installedPackages();
  /** URL path -> tarball file, for the tarballs named in packuments served so far. */
  const files = new Map();

  /** name -> packument, built once: a name's tarballs and their digests do not change while this runs. */
  const documents = new Map();
  const packument = (name, base) => {
    if (!documents.has(name)) documents.set(name, buildPackument(name, base));
    return documents.get(name);
  };
  const buildPackument = (name, base) => {
    const versions = {};
    const add = (version, manifest, file) => {
      const path = `/-/tarballs/${encodeURIComponent(name)}/${version}.tgz`;
      files.set(path, file);
      const scripts = manifest.scripts ?? {};
      versions[version] = {
        ...manifest,
        _id: `${name}@${version}`,
        ...(scripts.preinstall || scripts.install || scripts.postinstall ? { hasInstallScript: true } : {}),
        dist: dist(file, `${base}${path}`),
      };
    };
    if (packed.has(name)) for (const [version, tarball] of packed.get(name)) add(version, manifestOf(tarball), tarball);
    else if (installed.has(name))
      for (const [version, dir] of installed.get(name))
        add(version, JSON.parse(readFileSync(join(dir, "package.json"), "utf8")), packDirectory(name, version, dir));
    else return undefined;
    const latest = Object.keys(versions).sort(compareVersions).at(-1);
    return { name, "dist-tags": { latest }, versions };
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://registry").pathname;
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method !== "GET") return send(405, { error: `${req.method} is not served by the test registry` });
      const file = files.get(path);
      if (file) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return void createReadStream(file).pipe(res);
      }
      const name = decodeURIComponent(path.slice(1));
      const doc = name.startsWith("-/") ? undefined : packument(name, `http://${req.headers.host}`);
      if (doc) return send(200, doc);
      send(404, { error: `${name} is not packed here nor installed in the workspace (node_modules/.pnpm): the test registry serves only those` });
    } catch (error) {
      send(500, { error: String(error?.stack ?? error) });
    }
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`http://127.0.0.1:${server.address().port}/\n`);
  });
  // Serve until the parent closes stdin (or goes away).
  process.stdin.on("end", () => process.exit(0)).resume();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) serve(process.argv.slice(2));
