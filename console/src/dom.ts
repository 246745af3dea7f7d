// The console's only way to make DOM: elements with attributes and listeners, and text as
// text nodes. User data (names, chat, notes) never passes through innerHTML, so it can
// never become markup.

export type Child = Node | string | number | null | undefined | false;
type Value = string | number | boolean | null | undefined;
export type Attrs = Record<string, Value | ((event: Event) => void)>;

let lastId = 0;

/** A fresh element id, for label/for and aria-describedby pairs. */
export function uid(prefix = "c"): string {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === "function") {
      if (!name.startsWith("on")) throw new Error(`listener on attribute ${name}`);
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined) {
      if (name.startsWith("on")) throw new Error(`attribute ${name} would be script`);
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content with ``children``. */
export function fill(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/**
 * ``fill``, keeping the keyboard focus: if a child with ``data-key`` had it, the new child
 * with the same key gets it back (lists that re-render while someone tabs through them).
 */
export function refill(parent: Element, ...children: (Child | Child[])[]): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && parent.contains(active) ? active.dataset.key : undefined;
  fill(parent, ...children);
  if (!key) return;
  const again = [...parent.querySelectorAll<HTMLElement>("[data-key]")].find((element) => element.dataset.key === key);
  again?.focus();
}

/** A labelled control: ``<div class=field><label for=id>…</label> control [hint]</div>``. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): HTMLDivElement {
  control.id ||= uid("f");
  let hintNode: HTMLElement | null = null;
  if (hint) {
    hintNode = h("small", { id: uid("hint"), class: "hint" }, hint);
    control.setAttribute("aria-describedby", hintNode.id);
  }
  const row = h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintNode);
  if (control instanceof HTMLInputElement && control.type === "checkbox") row.classList.add("check");
  return row;
}

export function button(
  text: string,
  onclick: (event: Event) => void,
  attrs: Attrs = {},
): HTMLButtonElement {
  return h("button", { type: "button", ...attrs, onclick }, text);
}

/** A ``<table>`` in a scrolling wrapper (phone width), with a caption for screen readers. */
export function table(caption: string, headers: string[], rows: Node[]): HTMLDivElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", null, h("tr", null, headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", null, rows),
    ),
  );
}
