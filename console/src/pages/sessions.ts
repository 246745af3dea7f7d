// Where the account is signed in: end one session, or every one but this.

import { done, ok } from "../api";
import type { Page } from "../context";
import { button, fill, h, table } from "../dom";
import { errorBox, show } from "../errors";
import { when } from "../format";

export const sessions: Page = async (ctx) => {
  const error = errorBox();
  const list = h("div");

  const run = (action: () => Promise<void>) => () => {
    error.textContent = "";
    action().catch((failure: unknown) => show(error, failure));
  };

  const load = async (): Promise<void> => {
    const rows = await ok(ctx.maria.api.GET("/api/v1/auth/sessions"));
    fill(
      list,
      table(
        "Your sessions",
        ["Device", "Address", "Signed in", "Last used", ""],
        rows.map((session) => {
          const device = session.user_agent ?? "Unknown device";
          const end = session.current
            ? button("Sign out this device", run(async () => {
                await ctx.maria.logout("local");
                ctx.signedOut("You are signed out.");
              }))
            : button("Sign out this device", run(async () => {
                await done(ctx.maria.api.DELETE("/api/v1/auth/sessions/{session_id}", { params: { path: { session_id: session.id } } }));
                ctx.notice("That device is signed out.");
                await load();
                others.focus();
              }), { "aria-label": `Sign out ${device}, last used ${when(session.last_used_at)}` });
          return h("tr", { class: session.current ? "current" : null },
            h("td", null, device, session.current ? h("span", { class: "badge ok" }, "This device") : null),
            h("td", null, session.ip ?? "—"),
            h("td", null, when(session.created_at)),
            h("td", null, when(session.last_used_at)),
            h("td", null, end),
          );
        }),
      ),
    );
  };
  await load();

  const others = button("Sign out everywhere else", run(async () => {
    await ctx.maria.logout("others");
    ctx.notice("Every other session is signed out.");
    await load();
  }));
  return { title: "Sessions", body: [list, h("div", { class: "actions" }, others), error] };
};
