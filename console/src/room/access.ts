// Who may come in (the host and co-hosts see this): the room's visibility and capacity, and
// its invite links — make one (how long it lasts, single use or not), copy it, see the
// room's invites and revoke one. The link to share is the console's own room page with the
// invite (`/console/rooms/{id}?invite=…`), which redeems it before joining.

import type { components } from "@kinoway/maria";
import { answer, done, ok } from "../api";
import { button, field, fill, h, table } from "../dom";
import { actionForm, errorBox, show } from "../errors";
import { when } from "../format";
import type { RoomCtx } from "./shared";

type Invite = components["schemas"]["InviteOut"];
export type RoomInfo = components["schemas"]["RoomOut"];

const LIFETIMES: [number, string][] = [
  [3600, "1 hour"],
  [86400, "1 day"],
  [7 * 86400, "7 days"],
  [30 * 86400, "30 days"],
];

/** The console's link for an invite: this room's page with the token. */
export function inviteLink(roomId: string, token: string): string {
  return `${location.origin}/console/rooms/${encodeURIComponent(roomId)}?invite=${encodeURIComponent(token)}`;
}

export function inviteStatus(invite: Invite, now = Date.now()): string {
  if (invite.revoked_at) return "revoked";
  if (invite.single_use && invite.used_at) return "used";
  if (new Date(invite.expires_at).getTime() <= now) return "expired";
  return invite.single_use ? "single use" : "active";
}

/** "Public · up to 200 people" for everyone to read. */
export function accessSummary(info: Pick<RoomInfo, "visibility" | "capacity">): string {
  const who = info.visibility === "private" ? "Private: with an invite only" : "Public: anyone with the link";
  return `${who} · ${info.capacity === null ? "the server's capacity" : `up to ${info.capacity} people`}`;
}

export interface AccessSection {
  element: HTMLElement;
  /** Shown to the host and co-hosts only. */
  setAllowed(allowed: boolean): void;
}

export function accessSection(room: RoomCtx, info: RoomInfo, onChange: (info: RoomInfo) => void): AccessSection {
  const { ctx, roomId } = room;
  const api = ctx.maria.api;
  const path = { room_id: roomId };

  // -- visibility and capacity ------------------------------------------------------------
  const visibility = h("select", { name: "visibility" },
    h("option", { value: "public" }, "Public: anyone with the link"),
    h("option", { value: "private" }, "Private: with an invite only"),
  );
  const capacity = h("input", { type: "number", name: "capacity", min: 1, step: 1, inputmode: "numeric" });
  const setFields = (room: RoomInfo): void => {
    visibility.value = room.visibility;
    capacity.value = room.capacity === null ? "" : String(room.capacity);
  };
  setFields(info);
  const settings = actionForm(
    "Room access",
    [field("Who may join", visibility), field("Capacity", capacity, "The most people present at once; empty: the server's limit.")],
    "Save",
    async () => {
      const raw = capacity.value.trim();
      const size = raw === "" ? null : Number(raw);
      if (size !== null && (!Number.isInteger(size) || size < 1)) throw new Error("The capacity is a whole number from 1 up, or empty.");
      const updated = await ok(api.PATCH("/api/v1/rooms/{room_id}", { params: { path }, body: { visibility: visibility.value === "private" ? "private" : "public", capacity: size } }));
      setFields(updated);
      onChange(updated);
      ctx.notice(`Saved: ${accessSummary(updated)}.`);
    },
  );

  // -- invites -------------------------------------------------------------------------------
  const lifetime = h("select", { name: "expires_in" }, LIFETIMES.map(([seconds, text]) => h("option", { value: seconds, selected: seconds === 86400 }, text)));
  const singleUse = h("input", { type: "checkbox", name: "single_use" });
  const made = h("input", { readonly: true, name: "invite_link" });
  const copied = h("span", { role: "status", class: "hint" });
  const copy = button("Copy the invite link", () => {
    made.select();
    copied.textContent = "";
    void navigator.clipboard?.writeText(made.value).then(() => (copied.textContent = "Copied."), () => undefined);
  });
  const madeRow = h("div", { class: "made", hidden: true }, field("Invite link", made, "Send it to whom you invite: it opens this room."), h("div", { class: "actions" }, copy, copied));
  const create = actionForm(
    "Create an invite",
    [field("Expires after", lifetime), field("Single use (one person only)", singleUse)],
    "Create an invite link",
    async () => {
      const invite = await ok(api.POST("/api/v1/rooms/{room_id}/invites", { params: { path }, body: { expires_in: Number(lifetime.value), single_use: singleUse.checked } }));
      made.value = inviteLink(roomId, invite.token);
      madeRow.hidden = false;
      copied.textContent = "";
      made.focus();
      made.select();
      await reload();
    },
  );

  const listError = errorBox();
  const listed = h("div", { class: "invites" });
  const reload = async (): Promise<void> => {
    const { data: invites } = await answer(api.GET("/api/v1/rooms/{room_id}/invites", { params: { path } }));
    if (invites.length === 0) {
      fill(listed, h("p", { class: "hint" }, "No invites yet."));
      return;
    }
    fill(listed, table("The room's invites", ["Link", "Expires", "Status", ""], invites.map((invite) => {
      const status = inviteStatus(invite);
      const revoke = status === "revoked" || status === "used" || status === "expired"
        ? null
        : button("Revoke", () => {
            listError.textContent = "";
            done(api.DELETE("/api/v1/rooms/{room_id}/invites/{invite_id}", { params: { path: { room_id: roomId, invite_id: invite.id } } }))
              .then(() => {
                ctx.notice("The invite is revoked.");
                return reload();
              })
              .catch((failure: unknown) => show(listError, failure));
          }, { "aria-label": `Revoke the invite made ${when(invite.expires_at)}`, class: "small danger" });
      return h("tr", null,
        h("td", null, h("input", { readonly: true, value: inviteLink(roomId, invite.token), "aria-label": "Invite link", class: "link" })),
        h("td", null, when(invite.expires_at)),
        h("td", null, status),
        h("td", null, revoke),
      );
    })));
  };

  const element = h("section", { class: "card access-card", "aria-labelledby": "h-access", hidden: true },
    h("h2", { id: "h-access" }, "Access and invites"),
    h("div", { class: "grid" },
      h("div", null, h("h3", null, "Visibility and capacity"), settings),
      h("div", null, h("h3", null, "Invite links"), create, madeRow),
    ),
    h("h3", null, "Invites"),
    listError,
    listed,
  );
  let loaded = false;
  return {
    element,
    setAllowed: (allowed) => {
      element.hidden = !allowed;
      if (!allowed || loaded) return;
      loaded = true;
      reload().catch((failure: unknown) => {
        loaded = false;
        show(listError, failure);
      });
    },
  };
}
