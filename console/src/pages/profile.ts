// The signed-in user's own account: name, avatar (previewed before it is sent), password,
// email verification, the data export and leaving.

import type { User } from "@kinoway/maria";
import { done, ok } from "../api";
import type { Ctx, Page } from "../context";
import { button, field, fill, h } from "../dom";
import { actionForm, errorBox, show } from "../errors";
import { when } from "../format";

function card(title: string, ...content: (Node | string)[]): HTMLElement {
  const id = `h-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), content);
}

/** Avatars are served by this origin: show them from here, whatever host the URL names. */
export function avatarSrc(url: string | null): string | null {
  if (!url) return null;
  const parsed = new URL(url, location.origin);
  return parsed.pathname.startsWith("/api/v1/avatars/") ? parsed.pathname : null;
}

function account(ctx: Ctx, user: User): HTMLElement {
  const verification = h("p");
  const error = errorBox();
  if (user.email_verified) {
    fill(verification, h("span", { class: "badge ok" }, "Verified"));
  } else {
    const resend = button("Send the verification email again", () => {
      resend.disabled = true;
      error.textContent = "";
      done(ctx.maria.api.POST("/api/v1/auth/email/verify/send"))
        .then(() => ctx.notice(`A verification link was mailed to ${user.email}.`))
        .catch((failure: unknown) => show(error, failure))
        .finally(() => (resend.disabled = false));
    });
    fill(verification, h("span", { class: "badge warn" }, "Not verified"), " ", resend);
  }
  return card(
    "Account",
    h("dl", { class: "facts" },
      h("dt", null, "Email"), h("dd", null, user.email),
      h("dt", null, "Email verification"), h("dd", null, verification),
      h("dt", null, "Role"), h("dd", null, user.role),
      h("dt", null, "Member since"), h("dd", null, when(user.created_at)),
    ),
    error,
  );
}

function displayName(ctx: Ctx, user: User): HTMLElement {
  const input = h("input", { name: "display_name", autocomplete: "nickname", required: true, maxlength: 64 });
  input.value = user.display_name;
  return card(
    "Display name",
    actionForm("Change the display name", [field("Display name", input)], "Save the name", async () => {
      ctx.setUser(await ok(ctx.maria.api.PATCH("/api/v1/users/me", { body: { display_name: input.value } })));
      ctx.notice("Your display name is saved.");
    }),
  );
}

function avatar(ctx: Ctx, user: User): HTMLElement {
  const current = h("div", { class: "avatar-current" });
  const showCurrent = (who: User): void => {
    const src = avatarSrc(who.avatar_url);
    fill(current, src ? h("img", { class: "avatar", src, alt: "Your current avatar", width: 128, height: 128 }) : h("p", null, "No avatar yet."));
  };
  showCurrent(user);

  const file = h("input", { type: "file", name: "file", accept: "image/png,image/jpeg,image/webp" });
  const preview = h("img", { class: "avatar preview", alt: "Preview of the chosen image", width: 128, height: 128, hidden: true });
  let previewUrl: string | null = null;
  file.addEventListener("change", () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    const chosen = file.files?.[0];
    previewUrl = chosen ? URL.createObjectURL(chosen) : null;
    preview.hidden = previewUrl === null;
    if (previewUrl) preview.src = previewUrl;
    else preview.removeAttribute("src");
  });

  const upload = actionForm(
    "Upload an avatar",
    [field("Image (PNG, JPEG or WebP, up to 5 MiB)", file), preview],
    "Upload",
    async () => {
      const chosen = file.files?.[0];
      if (!chosen) throw new Error("Choose an image first.");
      const body = new FormData();
      body.append("file", chosen);
      const updated = await ok(
        ctx.maria.api.PUT("/api/v1/users/me/avatar", {
          // multipart: the browser writes the boundary; openapi-fetch passes FormData through
          body: body as unknown as { file: string },
          bodySerializer: (form: unknown) => form as FormData,
        }),
      );
      ctx.setUser(updated);
      showCurrent(updated);
      file.value = "";
      preview.hidden = true;
      ctx.notice("Your avatar is uploaded.");
    },
  );
  const removeError = errorBox();
  const remove = button("Remove the avatar", () => {
    removeError.textContent = "";
    ok(ctx.maria.api.DELETE("/api/v1/users/me/avatar"))
      .then((updated) => {
        ctx.setUser(updated);
        showCurrent(updated);
        ctx.notice("Your avatar is removed.");
      })
      .catch((failure: unknown) => show(removeError, failure));
  });
  return card("Avatar", current, upload, h("div", { class: "actions" }, remove), removeError);
}

function password(ctx: Ctx): HTMLElement {
  const current = h("input", { type: "password", name: "current_password", autocomplete: "current-password" });
  const fresh = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 });
  return card(
    "Password",
    actionForm(
      "Change the password",
      [
        field("Current password", current, "Leave empty if you signed up with an email code."),
        field("New password", fresh, "8 to 128 characters; not a common, repetitive or sequential one."),
      ],
      "Change the password",
      async (form) => {
        const body = current.value ? { current_password: current.value, new_password: fresh.value } : { new_password: fresh.value };
        await done(ctx.maria.api.POST("/api/v1/users/me/password", { body }));
        form.reset();
        ctx.notice("Your password is changed; your other sessions are signed out.");
      },
    ),
  );
}

function exportData(ctx: Ctx): HTMLElement {
  const error = errorBox();
  const link = h("a", { hidden: true });
  const download = button("Download my data", () => {
    error.textContent = "";
    download.disabled = true;
    ok(ctx.maria.api.GET("/api/v1/users/me/export"))
      .then((data) => {
        const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
        const url = URL.createObjectURL(blob);
        link.href = url;
        link.download = "maria-export.json";
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        ctx.notice("Your data was downloaded as maria-export.json.");
      })
      .catch((failure: unknown) => show(error, failure))
      .finally(() => (download.disabled = false));
  });
  return card("Your data", h("p", null, "Everything Maria holds about you, as one JSON file."), h("div", { class: "actions" }, download), link, error);
}

function leave(ctx: Ctx, user: User): HTMLElement {
  const secret = h("input", { type: "password", name: "password", autocomplete: "current-password" });
  const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 });
  const sure = h("input", { type: "checkbox", name: "confirm" });
  const codeError = errorBox();
  const sendCode = button("Email me a code instead", () => {
    codeError.textContent = "";
    ctx.maria
      .requestEmailCode(user.email)
      .then(() => ctx.notice(`A code was mailed to ${user.email}.`))
      .catch((failure: unknown) => show(codeError, failure));
  });
  const form = actionForm(
    "Delete the account",
    [
      field("Password", secret),
      h("div", { class: "actions" }, sendCode),
      codeError,
      field("Or the mailed code (accounts without a password)", code),
      field("I understand that this deletes my account, lists and messages for good", sure),
    ],
    "Delete my account",
    async () => {
      if (!sure.checked) throw new Error("Tick the box to confirm that you want to delete the account.");
      const body = secret.value ? { password: secret.value } : { code: code.value.trim() };
      await done(ctx.maria.api.DELETE("/api/v1/users/me", { body }));
      ctx.signedOut("Your account is deleted.");
    },
    { class: "danger-zone" },
  );
  return card("Delete the account", form);
}

export const profile: Page = async (ctx, user) => ({
  title: "Profile",
  body: [
    h("div", { class: "grid" }, account(ctx, user), displayName(ctx, user), avatar(ctx, user), password(ctx), exportData(ctx), leave(ctx, user)),
  ],
});
