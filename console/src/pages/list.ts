// One list: add a movie by its Kinopoisk id, remove one, newest or oldest first, page by
// page; make it public and copy its public link; delete it.

import { answer, done, ok } from "../api";
import type { Page } from "../context";
import { button, field, fill, h, table } from "../dom";
import { actionForm, errorBox, show } from "../errors";
import { when } from "../format";

const PAGE = 20;
type Order = "newest" | "oldest";

export const list: Page = async (ctx, user, [encodedSlug]) => {
  const slug = decodeURIComponent(encodedSlug ?? "");
  const path = { slug };
  let meta = await ok(ctx.maria.api.GET("/api/v1/users/me/lists/{slug}", { params: { path } }));

  // Paging: the cursors of the pages before this one, so "Previous" goes back.
  let order: Order = "newest";
  let cursors: (string | null)[] = [null];
  const items = h("div");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of the list" });
  const error = errorBox();

  const load = async (): Promise<void> => {
    const cursor = cursors[cursors.length - 1] ?? undefined;
    const page = await ok(ctx.maria.api.GET("/api/v1/users/me/lists/{slug}/items", { params: { path, query: { limit: PAGE, order, cursor } } }));
    const rows = page.items.map((item) =>
      h("tr", null,
        h("td", null, String(item.movie_id)),
        h("td", null, when(item.added_at)),
        h("td", null, item.note ?? ""),
        h("td", null, button("Remove", () => {
          error.textContent = "";
          done(ctx.maria.api.DELETE("/api/v1/users/me/lists/{slug}/items/{movie_id}", { params: { path: { slug, movie_id: item.movie_id } } }))
            .then(() => ctx.notice(`Movie ${item.movie_id} removed.`))
            .then(load)
            .then(() => movie.focus())
            .catch((failure: unknown) => show(error, failure));
        }, { "aria-label": `Remove movie ${item.movie_id}` })),
      ),
    );
    fill(items, rows.length ? table(`Movies in ${meta.title}`, ["Kinopoisk id", "Added", "Note", ""], rows) : h("p", null, cursors.length === 1 ? "No movies in this list yet." : "No movies on this page."));
    const previous = button("Previous page", () => {
      cursors = cursors.slice(0, -1);
      load().catch((failure: unknown) => show(error, failure));
    }, { disabled: cursors.length < 2 });
    const next = button("Next page", () => {
      cursors = [...cursors, page.next_cursor];
      load().catch((failure: unknown) => show(error, failure));
    }, { disabled: !page.next_cursor });
    fill(pager, previous, h("span", null, `Page ${cursors.length}`), next);
  };

  const movie = h("input", { type: "number", name: "movie_id", min: 1, max: 2147483647, step: 1, required: true, inputmode: "numeric" });
  const note = h("input", { name: "note", maxlength: 500 });
  const add = actionForm(
    "Add a movie",
    [field("Kinopoisk id", movie), field("Note (optional)", note)],
    "Add",
    async () => {
      const id = Number(movie.value);
      if (!Number.isInteger(id) || id < 1) throw new Error("A Kinopoisk id is a whole number from 1 up.");
      const { response } = await answer(
        ctx.maria.api.PUT("/api/v1/users/me/lists/{slug}/items/{movie_id}", {
          params: { path: { slug, movie_id: id } },
          body: note.value ? { note: note.value } : {},
        }),
      );
      ctx.notice(response.status === 201 ? `Movie ${id} added.` : `Movie ${id} was already in the list.`);
      movie.value = "";
      note.value = "";
      cursors = [null];
      await load();
      movie.focus();
    },
  );

  const orderSelect = h("select", { name: "order" },
    h("option", { value: "newest" }, "Newest first"),
    h("option", { value: "oldest" }, "Oldest first"),
  );
  orderSelect.addEventListener("change", () => {
    order = orderSelect.value === "oldest" ? "oldest" : "newest";
    cursors = [null];
    load().catch((failure: unknown) => show(error, failure));
  });

  const publicUrl = `${location.origin}/api/v1/users/${encodeURIComponent(user.id)}/lists/${encodeURIComponent(slug)}/items`;
  const link = h("input", { readonly: true, name: "public_link", value: publicUrl });
  const copied = h("span", { role: "status" });
  const copy = button("Copy the public link", () => {
    link.select();
    navigator.clipboard
      .writeText(publicUrl)
      .then(() => (copied.textContent = "Copied."))
      .catch(() => (copied.textContent = "Copy it from the field: the clipboard is not available."));
  });
  const linkRow = h("div", { class: "public-link" }, field("Public link", link), h("div", { class: "actions" }, copy, copied));
  const isPublic = h("input", { type: "checkbox", name: "is_public", checked: meta.is_public });
  const showLink = (): void => {
    linkRow.hidden = !meta.is_public;
  };
  showLink();
  isPublic.addEventListener("change", () => {
    error.textContent = "";
    ok(ctx.maria.api.PATCH("/api/v1/users/me/lists/{slug}", { params: { path }, body: { is_public: isPublic.checked } }))
      .then((updated) => {
        meta = updated;
        showLink();
        ctx.notice(updated.is_public ? "The list is public." : "The list is private.");
      })
      .catch((failure: unknown) => {
        isPublic.checked = meta.is_public;
        show(error, failure);
      });
  });

  const remove = meta.builtin
    ? null
    : button("Delete this list", () => {
        confirmRow.hidden = false;
        confirmYes.focus();
      });
  const confirmYes = button("Yes, delete it", () => {
    done(ctx.maria.api.DELETE("/api/v1/users/me/lists/{slug}", { params: { path } }))
      .then(() => {
        ctx.notice(`List “${meta.title}” deleted.`);
        ctx.go("/lists");
      })
      .catch((failure: unknown) => show(error, failure));
  }, { class: "danger" });
  const confirmRow = h("div", { class: "confirm", hidden: true }, h("p", null, `Delete “${meta.title}” and its movies?`), confirmYes, button("Cancel", () => (confirmRow.hidden = true)));

  await load();
  return {
    title: meta.title,
    body: [
      h("p", null, h("a", { href: "/console/lists" }, "All lists")),
      h("div", { class: "toolbar" }, field("Public", isPublic), field("Order", orderSelect)),
      linkRow,
      add,
      error,
      items,
      pager,
      remove ? h("div", { class: "actions" }, remove) : null,
      confirmRow,
    ].filter((node): node is HTMLElement => node !== null),
  };
};
