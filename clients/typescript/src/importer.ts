/**
 * Moving Kinoway's anonymous lists into the account: the `favorites` and `watch-later`
 * localStorage keys (JSON arrays of Kinopoisk ids), sent as stored in one
 * `POST /users/me/lists/import`, then marked so that it happens once per browser.
 *
 * The keys themselves are left alone (the app may still read them). Only a successful
 * import is marked: a failed one is tried again next time. Two tabs importing at once
 * would do no harm (the server merges, counting repeats as `existing`), but the cross-tab
 * lock and the mark make the second one a no-op.
 */
import type { CrossTab } from "./crossTab.js";
import type { ImportResult } from "./types.js";

export const KINOWAY_KEYS = ["favorites", "watch-later"] as const;
/** Set (to the time of the import) once the keys were imported. */
export const IMPORTED_KEY = "maria:imported";

export type ImportStorage = Pick<Storage, "getItem" | "setItem">;
export type ImportBody = Record<(typeof KINOWAY_KEYS)[number], unknown[]>;

export async function importLocalStorage(
  send: (body: ImportBody) => Promise<ImportResult>,
  storage: ImportStorage,
  crossTab: CrossTab | null,
): Promise<ImportResult | null> {
  const run = async (): Promise<ImportResult | null> => {
    if (storage.getItem(IMPORTED_KEY) !== null) return null;
    const body: ImportBody = { favorites: readArray(storage, "favorites"), "watch-later": readArray(storage, "watch-later") };
    if (body.favorites.length === 0 && body["watch-later"].length === 0) return null;
    const result = await send(body);
    storage.setItem(IMPORTED_KEY, new Date().toISOString());
    return result;
  };
  return crossTab ? crossTab.exclusive("import", run) : run();
}

/** The key's array as stored (the server counts what is not a movie id as `skipped`);
 * a missing key or one that is not a JSON array counts as empty. */
function readArray(storage: ImportStorage, key: string): unknown[] {
  const raw = storage.getItem(key);
  if (raw === null) return [];
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}
