/**
 * One "browser tab" in a worker thread: its own client, its own (unshared) token storage,
 * the app's BroadcastChannel. The main thread says "go"; the tab makes concurrent calls
 * and reports how many refreshes it sent and the pair it ends with.
 */
import { parentPort, workerData } from "node:worker_threads";

import { createMaria, type StoredTokens } from "@kinoway/maria";

import { countingFetch, MemoryStorage } from "./helpers.js";

export interface TabData {
  url: string;
  tokens: StoredTokens;
  channel: string;
}

export type TabCommand = { type: "calls"; count: number } | { type: "refresh" } | { type: "exit" };

export interface TabReport {
  refreshCalls: number;
  failures: string[];
  refreshToken: string | null;
  accessToken: string | null;
}

const data = workerData as TabData;
const port = parentPort!;
const storage = new MemoryStorage({ ...data.tokens });
const counting = countingFetch();
const maria = createMaria({
  mode: "bearer",
  baseUrl: data.url,
  storage,
  fetch: counting.fetch,
  crossTab: { name: data.channel, lockTimeoutMs: 3_000 },
});

port.on("message", async (command: TabCommand) => {
  if (command.type === "exit") {
    maria.close();
    port.close();
    return;
  }
  const failures: string[] = [];
  const record = (error: unknown) => failures.push(String((error as { code?: string }).code ?? error));
  if (command.type === "calls") {
    await Promise.all(
      Array.from({ length: command.count }, () => maria.api.GET("/api/v1/users/me/lists").catch(record)),
    );
  } else {
    await maria.refresh().catch(record);
  }
  const report: TabReport = {
    refreshCalls: counting.count("/api/v1/auth/refresh"),
    failures,
    refreshToken: storage.tokens?.refresh_token ?? null,
    accessToken: await maria.accessToken().catch(() => null),
  };
  port.postMessage(report);
});
port.postMessage("ready");
