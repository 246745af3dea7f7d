// Signing in: with a password, by creating an account, or with a code mailed to the
// address (Maria also creates the account then); and asking for a password reset link.

import { actionForm } from "../errors";
import { done } from "../api";
import { field, h } from "../dom";
import type { Ctx, GuestPage } from "../context";

function email(name = "email"): HTMLInputElement {
  return h("input", { type: "email", name, autocomplete: "email", required: true, inputmode: "email" });
}

function value(form: HTMLFormElement, name: string): string {
  const control = form.elements.namedItem(name);
  return control instanceof HTMLInputElement ? control.value : "";
}

function section(title: string, ...content: Node[]): HTMLElement {
  const id = `h-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), content);
}

function passwordForm(ctx: Ctx): HTMLFormElement {
  return actionForm(
    "Sign in with a password",
    [
      field("Email", email()),
      field("Password", h("input", { type: "password", name: "password", autocomplete: "current-password", required: true })),
    ],
    "Sign in",
    async (form) => {
      await ctx.maria.login({ email: value(form, "email"), password: value(form, "password") });
    },
  );
}

function registerForm(ctx: Ctx): HTMLFormElement {
  return actionForm(
    "Create an account",
    [
      field("Display name", h("input", { name: "display_name", autocomplete: "nickname", required: true, maxlength: 64 })),
      field("Email", email()),
      field(
        "Password",
        h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 }),
        "8 to 128 characters; not a common, repetitive or sequential one.",
      ),
    ],
    "Create account",
    async (form) => {
      await ctx.maria.register({
        display_name: value(form, "display_name"),
        email: value(form, "email"),
        password: value(form, "password"),
      });
    },
  );
}

function codeForms(ctx: Ctx, query: URLSearchParams): Node[] {
  const address = email();
  address.value = query.get("email") ?? "";
  const code = h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6, required: true });
  code.value = query.get("code") ?? "";
  const verify = actionForm(
    "Sign in with the mailed code",
    [field("Six-digit code", code)],
    "Sign in with the code",
    async () => {
      await ctx.maria.verifyEmailCode(address.value, code.value.trim());
    },
  );
  const send = actionForm(
    "Mail me a sign-in code",
    [field("Email", address, "Without an account, signing in with a code creates one.")],
    "Email me a code",
    async () => {
      await ctx.maria.requestEmailCode(address.value);
      ctx.notice(`If ${address.value} can receive mail, a code is on its way.`);
      code.focus();
    },
  );
  return [send, verify];
}

function forgotForm(ctx: Ctx): HTMLFormElement {
  return actionForm(
    "Reset a forgotten password",
    [field("Email", email())],
    "Email me a reset link",
    async (form) => {
      await done(ctx.maria.api.POST("/api/v1/auth/password/forgot", { body: { email: value(form, "email") } }));
      ctx.notice("If an account has this address, a reset link is on its way.");
    },
  );
}

export const signIn: GuestPage = async (ctx, _user, _params, query) => ({
  title: "Sign in",
  body: [
    h("div", { class: "grid" },
      section("With a password", passwordForm(ctx)),
      section("With an email code", ...codeForms(ctx, query)),
      section("New here?", registerForm(ctx)),
      section("Forgot your password?", forgotForm(ctx)),
    ),
  ],
});
