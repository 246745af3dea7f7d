// The bearer-mode client of an app on another origin: Maria must list that origin in
// MARIA_CORS_ORIGINS (bearer requests carry no cookies, but the browser still asks Maria
// whether the origin may call it).
import { createMaria } from "@kinoway/maria";

import { webStorageTokens } from "./storage.js";

export function bearerClient(mariaUrl: string, store: Pick<Storage, "getItem" | "setItem" | "removeItem">) {
  return createMaria({ mode: "bearer", baseUrl: mariaUrl, storage: webStorageTokens(store) });
}
