/** What the tests share: accounts, a fetch that counts, storages, forged tokens, waiting. */
import { createHmac, randomBytes } from "node:crypto";

import type { StoredTokens, TokenStorage } from "@kinoway/maria";

export function newAccount(name = "Tester"): { email: string; password: string; display_name: string } {
  const id = randomBytes(6).toString("hex");
  return { email: `u${id}@example.com`, password: `Kw-${randomBytes(9).toString("base64url")}`, display_name: `${name} ${id.slice(0, 4)}` };
}

/** A fetch that counts the requests per path and keeps their bodies (requests are real). */
export interface CountingFetch {
  fetch: typeof fetch;
  count(path: string): number;
  bodies(path: string): string[];
}

export function countingFetch(inner: typeof fetch = globalThis.fetch): CountingFetch {
  const counts = new Map<string, number>();
  const bodies = new Map<string, string[]>();
  const counted: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const body = request.body === null ? "" : await request.clone().text();
    bodies.set(path, [...(bodies.get(path) ?? []), body]);
    return inner(request);
  };
  return {
    fetch: counted,
    count: (path) => counts.get(path) ?? 0,
    bodies: (path) => bodies.get(path) ?? [],
  };
}

/** A TokenStorage in memory that remembers every save (as localStorage would hold it). */
export class MemoryStorage implements TokenStorage {
  saved: (StoredTokens | null)[] = [];
  device: string | null = null;

  constructor(public tokens: StoredTokens | null = null) {}

  load(): StoredTokens | null {
    return this.tokens === null ? null : { ...this.tokens };
  }

  save(tokens: StoredTokens | null): void {
    this.tokens = tokens === null ? null : { ...tokens };
    this.saved.push(this.tokens);
  }

  loadDevice(): string | null {
    return this.device;
  }

  saveDevice(deviceToken: string): void {
    this.device = deviceToken;
  }
}

/** `getItem`/`setItem` over a Map, for the importer (what `localStorage` offers). */
export class MapStorage {
  readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * `token` with other times, signed again with the server's HS256 secret: a token Maria
 * accepts as its own (same header and `kid`, same session) but that expires when the test
 * says. This is how the tests get an expired token without waiting out a real lifetime.
 */
export function retimed(token: string, secret: string, times: { iat: number; exp: number }): string {
  const [header, payload] = token.split(".");
  if (header === undefined || payload === undefined) throw new Error("not a JWT");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  const body = b64url(JSON.stringify({ ...claims, iat: times.iat, exp: times.exp }));
  const signature = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${header}.${body}`).digest("base64url");
  return `${header}.${body}.${signature}`;
}

export const now = (): number => Math.floor(Date.now() / 1000);

/** Poll until `probe` is true (fails after `withinMs`). */
export async function until(what: string, probe: () => boolean | Promise<boolean>, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${withinMs} ms`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
