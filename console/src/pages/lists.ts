// The user's movie lists: the list of lists, a new list, and the paste-import of Kinoway's
// localStorage (`{"favorites": [...], "watch-later": [...]}`).

import { ok } from "../api";
import type { Ctx, Page } from "../context";
import { field, h, table } from "../dom";
import { actionForm } from "../errors";

const KEYS = ["favorites", "watch-later"] as const;

/**
 * What was pasted, as the import takes it. Accepts the two keys' arrays, or their values
 * as localStorage holds them (JSON text of an array).
 */
export function parseImport(text: string): { favorites?: unknown[]; "watch-later"?: unknown[] } {
  let pasted: unknown;
  try {
    pasted = JSON.parse(text);
  } catch {
    throw new Error('That is not JSON. Paste an object like {"favorites": [301, 326], "watch-later": []}.');
  }
  if (typeof pasted !== "object" || pasted === null || Array.isArray(pasted)) {
    throw new Error('Paste a JSON object with "favorites" and/or "watch-later" arrays.');
  }
  const body: { favorites?: unknown[]; "watch-later"?: unknown[] } = {};
  for (const key of KEYS) {
    let value = (pasted as Record<string, unknown>)[key];
    if (typeof value === "string") {
      try {
        value = JSON.parse(value);
      } catch {
        throw new Error(`"${key}" holds text that is not a JSON array.`);
      }
    }
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) throw new Error(`"${key}" must be an array of movie ids.`);
    body[key] = value;
  }
  if (!body.favorites && !body["watch-later"]) throw new Error('Neither "favorites" nor "watch-later" is in the pasted object.');
  return body;
}

async function overview(ctx: Ctx): Promise<HTMLElement> {
  const all = await ok(ctx.maria.api.GET("/api/v1/users/me/lists"));
  return table(
    "Your lists",
    ["List", "Movies", "Visibility"],
    all.map((list) =>
      h("tr", null,
        h("td", null, h("a", { href: `/console/lists/${encodeURIComponent(list.slug)}` }, list.title)),
        h("td", null, String(list.count)),
        h("td", null, list.is_public ? "Public" : "Private"),
      ),
    ),
  );
}

export const lists: Page = async (ctx) => {
  let shown = await overview(ctx);
  const title = h("input", { name: "title", required: true, maxlength: 100 });
  const isPublic = h("input", { type: "checkbox", name: "is_public" });
  const create = actionForm(
    "Create a list",
    [field("Title", title), field("Public (anyone with the link can read it)", isPublic)],
    "Create the list",
    async () => {
      const made = await ok(ctx.maria.api.POST("/api/v1/users/me/lists", { body: { title: title.value, is_public: isPublic.checked } }));
      ctx.notice(`List “${made.title}” created.`);
      ctx.go(`/lists/${encodeURIComponent(made.slug)}`);
    },
  );

  const pasted = h("textarea", { name: "pasted", rows: 5, spellcheck: "false", placeholder: '{"favorites": [301, 326], "watch-later": [435]}' });
  const result = h("p", { class: "result", role: "status" });
  const importForm = actionForm(
    "Import from Kinoway's localStorage",
    [field("Kinoway's localStorage JSON", pasted, 'The value of localStorage as JSON: the "favorites" and "watch-later" arrays.')],
    "Import",
    async () => {
      result.textContent = "";
      const counts = await ok(ctx.maria.api.POST("/api/v1/users/me/lists/import", { body: parseImport(pasted.value) }));
      const summary = `Imported: ${counts.added} added, ${counts.existing} already there, ${counts.skipped} skipped.`;
      const fresh = await overview(ctx);
      shown.replaceWith(fresh);
      shown = fresh;
      result.textContent = summary;
    },
  );

  return {
    title: "Lists",
    body: [
      shown,
      h("div", { class: "grid" },
        h("section", { class: "card", "aria-labelledby": "h-new-list" }, h("h2", { id: "h-new-list" }, "New list"), create),
        h("section", { class: "card", "aria-labelledby": "h-import" }, h("h2", { id: "h-import" }, "Import from Kinoway"), importForm, result),
      ),
    ],
  };
};
