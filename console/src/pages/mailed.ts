// The pages mailed links open: verify an address, reset a password. The token comes from
// the link's query; the page calls the API with it.

import { done, ok } from "../api";
import { field, h } from "../dom";
import { actionForm, errorBox, show } from "../errors";
import type { GuestPage } from "../context";

export const verifyEmail: GuestPage = async (ctx, user, _params, query) => {
  const token = query.get("token") ?? "";
  const status = h("p", { role: "status" }, "Verifying…");
  const error = errorBox();
  try {
    await done(ctx.maria.api.POST("/api/v1/auth/email/verify", { body: { token } }));
    status.textContent = "Your email address is verified.";
    if (user) ctx.setUser(await ok(ctx.maria.api.GET("/api/v1/users/me")));
  } catch (failure) {
    status.textContent = "";
    show(error, failure);
  }
  const next = user ? h("a", { href: "/console/profile" }, "Back to your profile") : h("a", { href: "/console/sign-in" }, "Sign in");
  return { title: "Verify your email", body: [status, error, h("p", null, next)] };
};

export const resetPassword: GuestPage = async (ctx, _user, _params, query) => {
  const token = query.get("token") ?? "";
  const password = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 });
  const form = actionForm(
    "Choose a new password",
    [field("New password", password, "8 to 128 characters; not a common, repetitive or sequential one.")],
    "Set the password",
    async () => {
      await done(ctx.maria.api.POST("/api/v1/auth/password/reset", { body: { token, new_password: password.value } }));
      ctx.notice("Your password is changed and every session ended. Sign in with the new one.");
      ctx.signedOut();
    },
  );
  return { title: "Reset your password", body: [form] };
};
