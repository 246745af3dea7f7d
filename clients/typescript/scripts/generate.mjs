// `npm run generate [-- --out FILE]`: src/generated/openapi.ts from the server's own schema.
//
// The schema is read from the Python package (no server, no database), so the types always
// match the code of this checkout. tests/clients/test_typescript.py runs this script with
// `--out` on a temporary file and fails when the result differs from the committed file.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");
const repo = resolve(pkg, "../..");

/**
 * The one place that knows how to get Maria's OpenAPI document.
 *
 * TODO(integrator): once `maria schema openapi` exists, replace the `-c` program below by
 * `[join(dirname(python), "maria"), ["schema", "openapi"]]`.
 */
function readSchema(python, env) {
  const program =
    "import json, sys; from maria.app import create_app; " +
    "json.dump(create_app().openapi(), sys.stdout, indent=2)";
  const done = spawnSync(python, ["-c", program], { env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (done.status !== 0) {
    throw new Error(`reading the schema with ${python} failed:\n${done.stderr || done.error}`);
  }
  return done.stdout;
}

function option(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const out = resolve(option("--out") ?? join(pkg, "src/generated/openapi.ts"));
const python = process.env.MARIA_PYTHON ?? join(repo, ".venv/bin/python");
const work = mkdtempSync(join(tmpdir(), "maria-schema-"));
try {
  // No MARIA_* variable of the caller may change the schema; the app only needs a secret
  // and a data directory it never writes to (building it does no I/O).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MARIA_")));
  env.MARIA_SECRET_KEY = "schema-generation-only-".padEnd(40, "x");
  env.MARIA_DATA_DIR = work;
  const schemaFile = join(work, "openapi.json");
  writeFileSync(schemaFile, readSchema(python, env));
  const cli = join(pkg, "node_modules/openapi-typescript/bin/cli.js");
  const done = spawnSync(process.execPath, [cli, schemaFile, "--output", out], {
    cwd: pkg,
    encoding: "utf8",
  });
  if (done.status !== 0) {
    throw new Error(`openapi-typescript failed:\n${done.stdout}\n${done.stderr}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
