// `npm test`: the compiled tests (build/test/*.test.js) with Node's test runner, one file at
// a time (each starts its own `maria serve`; with Postgres they share one database).
// Arguments are passed on, e.g. `npm test -- --test-name-pattern=refresh`.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const dir = resolve(dirname(fileURLToPath(import.meta.url)), "../build/test");
const files = readdirSync(dir)
  .filter((name) => name.endsWith(".test.js"))
  .sort()
  .map((name) => join(dir, name));
const done = spawnSync(
  process.execPath,
  ["--experimental-websocket", "--no-warnings=ExperimentalWarning", "--test", "--test-concurrency=1", ...process.argv.slice(2), ...files],
  { stdio: "inherit" },
);
process.exit(done.status ?? 1);
