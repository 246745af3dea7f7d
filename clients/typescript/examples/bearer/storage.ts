// Bearer mode, for an app on another site than Maria (or a native app): the pair is kept
// by the app. This storage keeps it in a Web Storage (sessionStorage: one tab's life;
// localStorage: across restarts, readable by any script of the origin, so only for apps
// that accept that risk); the device token is kept apart so that it survives sign-out.
import type { StoredTokens, TokenStorage } from "@kinoway/maria";

export function webStorageTokens(store: Pick<Storage, "getItem" | "setItem" | "removeItem">, key = "maria"): TokenStorage {
  return {
    load() {
      const raw = store.getItem(`${key}:tokens`);
      return raw === null ? null : (JSON.parse(raw) as StoredTokens);
    },
    save(tokens) {
      if (tokens === null) store.removeItem(`${key}:tokens`);
      else store.setItem(`${key}:tokens`, JSON.stringify(tokens));
    },
    loadDevice() {
      return store.getItem(`${key}:device`);
    },
    saveDevice(deviceToken) {
      store.setItem(`${key}:device`, deviceToken);
    },
  };
}
