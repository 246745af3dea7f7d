/**
 * A real `maria serve` for the tests: a free port, a temporary data directory, a known
 * secret (so a test can sign tokens the server accepts, e.g. already expired ones).
 *
 * Configured from the environment, so that tests/clients/test_typescript.py (or a developer)
 * can choose what runs:
 * - `MARIA_SERVER`: the `maria` executable (default: the repository's .venv/bin/maria);
 * - `MARIA_CLIENT_TEST_DATABASE_URL`: a database for every server of the run (default: a
 *   SQLite file in each server's data directory);
 * - `MARIA_CLIENT_TEST_REDIS_URL`: Redis for the servers (default: none, in-process); its
 *   database is flushed before each test file's server starts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { flushRedis } from "./redis.js";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const REPO = resolve(PACKAGE, "../..");

export interface ServerOptions {
  /** Extra MARIA_* settings for this server. */
  env?: Record<string, string>;
}

export class MariaServer {
  readonly secret = randomBytes(32).toString("base64url");
  readonly dataDir = mkdtempSync(join(tmpdir(), "maria-client-test-"));
  port = 0;
  private proc: ChildProcess | null = null;
  private readonly logPath = join(this.dataDir, "server.log");

  constructor(private readonly options: ServerOptions = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  log(): string {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /** Start on a free port (or, after `stop`, on the same port and database again). */
  async start(): Promise<this> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.port === 0 || attempt > 0) this.port = await freePort();
      this.spawn();
      try {
        await this.healthy(60_000);
        return this;
      } catch (error) {
        await this.stop();
        if (!/address already in use/i.test(this.log())) throw error;
      }
    }
    throw new Error(`maria serve found no free port:\n${this.log()}`);
  }

  /** SIGTERM (Maria closes room sockets with 1012), then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((done) => proc.once("exit", () => done()));
    signal(proc, "SIGTERM");
    const timer = setTimeout(() => signal(proc, "SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stop and remove the data directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private spawn(): void {
    const maria = process.env.MARIA_SERVER ?? join(REPO, ".venv/bin/maria");
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith("MARIA_") && value !== undefined) env[key] = value;
    }
    Object.assign(env, {
      MARIA_ENV: "test",
      MARIA_DATA_DIR: this.dataDir,
      MARIA_SECRET_KEY: this.secret,
      // cheap argon2: hashing cost is tested elsewhere
      MARIA_ARGON2_MEMORY_KIB: "1024",
      MARIA_ARGON2_TIME_COST: "1",
      MARIA_PASSWORD_HASH_THREADS: "2",
    });
    if (process.env.MARIA_CLIENT_TEST_DATABASE_URL) env.MARIA_DATABASE_URL = process.env.MARIA_CLIENT_TEST_DATABASE_URL;
    if (process.env.MARIA_CLIENT_TEST_REDIS_URL) env.MARIA_REDIS_URL = process.env.MARIA_CLIENT_TEST_REDIS_URL;
    Object.assign(env, this.options.env ?? {});
    const log = openSync(this.logPath, "a");
    this.proc = spawn(maria, ["serve", "--host", "127.0.0.1", "--port", String(this.port)], {
      env,
      cwd: this.dataDir,
      stdio: ["ignore", log, log],
      detached: true, // its own process group, so that stop() reaches everything it started
    });
    closeSync(log);
  }

  private async healthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const proc = this.proc;
      if (proc === null || proc.exitCode !== null) throw new Error(`maria serve exited:\n${this.log()}`);
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((done) => setTimeout(done, 50));
    }
    throw new Error(`maria serve did not answer /healthz in ${timeoutMs} ms:\n${this.log()}`);
  }
}

function signal(proc: ChildProcess, name: NodeJS.Signals): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, name);
  } catch {
    // gone already
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/** One server per test file: started before its tests, disposed after them. */
export async function startMaria(options: ServerOptions = {}): Promise<MariaServer> {
  const redis = process.env.MARIA_CLIENT_TEST_REDIS_URL;
  if (redis) await flushRedis(redis); // files run one at a time: each starts with fresh counts
  return new MariaServer(options).start();
}
