// For admins: the audit log, newest first, a page at a time, filtered by event or user.

import type { paths } from "@kinoway/maria";
import { ok } from "../api";
import type { Page } from "../context";
import { button, field, fill, h, table } from "../dom";
import { actionForm, errorBox, show } from "../errors";
import { when } from "../format";

type AuditEvent = NonNullable<NonNullable<paths["/api/v1/admin/audit"]["get"]["parameters"]["query"]>["event"]>;

// The schema's enum, checked against the generated types: a renamed event fails the build.
export const EVENTS = [
  "registered",
  "signed_in",
  "sign_in_failed",
  "code_signed_in",
  "signed_out",
  "refresh_reused",
  "password_changed",
  "password_reset",
  "email_verified",
  "role_changed",
  "disabled",
  "enabled",
  "sessions_revoked",
  "deleted",
] as const satisfies readonly AuditEvent[];

const PAGE = 25;

export const adminAudit: Page = async (ctx, _me, _params, query) => {
  const error = errorBox();
  const results = h("div");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of the audit log" });
  let filter: { event?: AuditEvent; user_id?: string } = {};
  let cursors: (string | null)[] = [null];

  const eventSelect = h("select", { name: "event" }, h("option", { value: "" }, "Every event"), EVENTS.map((event) => h("option", { value: event }, event)));
  const userId = h("input", { name: "user_id", autocomplete: "off", spellcheck: "false", maxlength: 64 });
  userId.value = query.get("user_id") ?? "";

  async function load(): Promise<void> {
    const cursor = cursors[cursors.length - 1] ?? undefined;
    const page = await ok(ctx.maria.api.GET("/api/v1/admin/audit", { params: { query: { ...filter, cursor, limit: PAGE } } }));
    fill(results, page.items.length
      ? table("Audit events", ["Time", "Event", "User", "By admin", "Address", "Device", "Detail"], page.items.map((event) =>
          h("tr", null,
            h("td", null, when(event.at)),
            h("td", null, event.event),
            h("td", { class: "id" }, event.user_id ?? "—"),
            h("td", { class: "id" }, event.actor_id ?? "—"),
            h("td", null, event.ip ?? "—"),
            h("td", null, event.user_agent ?? "—"),
            h("td", null, event.detail ? JSON.stringify(event.detail) : ""),
          )))
      : h("p", null, "No events."));
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

  const form = actionForm("Filter the audit log", [field("Event", eventSelect), field("User id", userId)], "Filter", async () => {
    const event = EVENTS.find((name) => name === eventSelect.value);
    filter = { ...(event ? { event } : {}), ...(userId.value.trim() ? { user_id: userId.value.trim() } : {}) };
    cursors = [null];
    await load();
  }, { class: "inline" });

  if (userId.value) filter = { user_id: userId.value };
  await load();
  return { title: "Audit log", body: [form, error, results, pager] };
};
