// For admins: every account, searchable; change a role, disable or enable, delete.

import { done, ok } from "../api";
import type { Ctx, Page } from "../context";
import { button, field, fill, h, table } from "../dom";
import { actionForm, errorBox, show } from "../errors";
import { when } from "../format";

const PAGE = 20;

type AdminUser = Awaited<ReturnType<typeof fetchPage>>["items"][number];

function fetchPage(ctx: Ctx, query: string, cursor: string | null) {
  return ok(
    ctx.maria.api.GET("/api/v1/admin/users", {
      params: { query: { query: query || undefined, cursor: cursor ?? undefined, limit: PAGE } },
    }),
  );
}

export const adminUsers: Page = async (ctx, me) => {
  const error = errorBox();
  const results = h("div");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of users" });
  let query = "";
  let cursors: (string | null)[] = [null];

  // The table is drawn anew after each action: focus goes back to the control acted on.
  const focusLabelled = (label: string): void => {
    results.querySelector<HTMLElement>(`[aria-label="${CSS.escape(label)}"]`)?.focus();
  };

  const patch = async (
    user: AdminUser,
    body: { role?: "user" | "admin"; disabled?: boolean },
    said: string,
    focusAfter: string,
  ): Promise<void> => {
    error.textContent = "";
    try {
      await ok(ctx.maria.api.PATCH("/api/v1/admin/users/{user_id}", { params: { path: { user_id: user.id } }, body }));
      ctx.notice(said);
    } catch (failure) {
      show(error, failure);
    }
    await load();
    focusLabelled(focusAfter);
  };

  const row = (user: AdminUser): HTMLTableRowElement => {
    const role = h("select", { name: "role", "aria-label": `Role of ${user.email}` },
      h("option", { value: "user", selected: user.role === "user" }, "user"),
      h("option", { value: "admin", selected: user.role === "admin" }, "admin"),
    );
    role.addEventListener("change", () => {
      const next = role.value === "admin" ? "admin" : "user";
      void patch(user, { role: next }, `${user.email} is now ${next === "admin" ? "an admin" : "a user"}.`, `Role of ${user.email}`);
    });
    const toggle = button(user.disabled ? "Enable" : "Disable", () => {
      const [said, next] = user.disabled ? ["enabled", "Disable"] : ["disabled", "Enable"];
      void patch(user, { disabled: !user.disabled }, `${user.email} is ${said}.`, `${next} ${user.email}`);
    }, { "aria-label": `${user.disabled ? "Enable" : "Disable"} ${user.email}` });
    const confirm = h("span", { class: "confirm", hidden: true },
      `Delete ${user.email} for good? `,
      button("Yes, delete", () => {
        error.textContent = "";
        done(ctx.maria.api.DELETE("/api/v1/admin/users/{user_id}", { params: { path: { user_id: user.id } } }))
          .then(() => ctx.notice(`${user.email} is deleted.`))
          .catch((failure: unknown) => show(error, failure))
          .then(load)
          .then(() => search.focus());
      }, { class: "danger", "aria-label": `Yes, delete ${user.email}` }),
      button("Cancel", () => (confirm.hidden = true)),
    );
    const remove = button("Delete", () => {
      confirm.hidden = false;
      (confirm.querySelector("button") as HTMLButtonElement).focus();
    }, { "aria-label": `Delete ${user.email}`, disabled: user.id === me.id });
    return h("tr", { class: user.disabled ? "disabled" : null },
      h("td", null, user.email),
      h("td", null, user.display_name),
      h("td", null, role),
      h("td", null, user.disabled ? h("span", { class: "badge warn" }, "Disabled") : h("span", { class: "badge ok" }, "Active"), " ", toggle),
      h("td", null, user.email_verified ? "yes" : "no"),
      h("td", null, when(user.created_at)),
      h("td", null, remove, confirm),
    );
  };

  async function load(): Promise<void> {
    const page = await fetchPage(ctx, query, cursors[cursors.length - 1] ?? null);
    fill(results, page.items.length
      ? table("Users", ["Email", "Name", "Role", "Status", "Verified", "Joined", ""], page.items.map(row))
      : h("p", null, "No user matches."));
    fill(pager,
      button("Previous page", () => {
        cursors = cursors.slice(0, -1);
        load().catch((failure: unknown) => show(error, failure));
      }, { disabled: cursors.length < 2 }),
      h("span", null, `Page ${cursors.length}`),
      button("Next page", () => {
        cursors = [...cursors, page.next_cursor];
        load().catch((failure: unknown) => show(error, failure));
      }, { disabled: !page.next_cursor }),
    );
  }

  const search = h("input", { type: "search", name: "query", maxlength: 320, autocomplete: "off" });
  const form = actionForm("Search users", [field("Email or name contains", search)], "Search", async () => {
    query = search.value.trim();
    cursors = [null];
    await load();
  }, { class: "inline", role: "search" });

  await load();
  return { title: "Users", body: [form, error, results, pager] };
};
