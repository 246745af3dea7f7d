// Every failure is shown as text: an API error as its `message` (the contract's
// {"error": {code, message}}), anything else as what went wrong, in a live region so that
// screen readers announce it.

import { MariaError } from "@kinoway/maria";
import { h } from "./dom";

export function messageOf(error: unknown): string {
  if (error instanceof MariaError) return error.message;
  if (error instanceof TypeError) return "Maria could not be reached. Check the connection and try again.";
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}

/** An empty live region; ``show`` puts an error's message in it. */
export function errorBox(): HTMLParagraphElement {
  return h("p", { class: "error", role: "alert" });
}

export function show(box: HTMLElement, error: unknown): void {
  box.textContent = messageOf(error);
}

/**
 * A form whose submit runs ``action``: the submit button is disabled meanwhile, and a
 * failure's message appears in the form's own error region (cleared on the next try).
 */
export function actionForm(
  label: string,
  children: Node[],
  submitText: string,
  action: (form: HTMLFormElement) => Promise<void>,
  attrs: Record<string, string> = {},
): HTMLFormElement {
  const error = errorBox();
  const submit = h("button", { type: "submit" }, submitText);
  const form = h("form", { "aria-label": label, novalidate: true, ...attrs }, children, h("div", { class: "actions" }, submit), error);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    action(form)
      .catch((failure: unknown) => show(error, failure))
      .finally(() => {
        submit.disabled = false;
        form.removeAttribute("aria-busy");
      });
  });
  return form;
}
