// The console: one client in cookie mode (the browser keeps the tokens as HttpOnly
// cookies; nothing is written to localStorage), the routes, the navigation bar, and the
// sign-in state shared by every page.

import { createMaria, MariaError, type MariaEvent, type User } from "@kinoway/maria";
import type { Ctx, View } from "./context";
import { button, fill, h } from "./dom";
import { messageOf } from "./errors";
import { adminAudit } from "./pages/admin-audit";
import { adminUsers } from "./pages/admin-users";
import { list } from "./pages/list";
import { lists } from "./pages/lists";
import { resetPassword, verifyEmail } from "./pages/mailed";
import { profile } from "./pages/profile";
import { room } from "./pages/room";
import { rooms } from "./pages/rooms";
import { sessions } from "./pages/sessions";
import { signIn } from "./pages/signin";
import { BASE, currentPath, interceptLinks, match, type Route } from "./router";
import { watchSession } from "./session";

const routes: Route[] = [
  { path: /^\/sign-in$/, access: "guest", page: signIn },
  { path: /^\/verify-email$/, access: "any", page: verifyEmail },
  { path: /^\/reset-password$/, access: "any", page: resetPassword },
  { path: /^\/profile$/, access: "user", page: profile },
  { path: /^\/sessions$/, access: "user", page: sessions },
  { path: /^\/lists$/, access: "user", page: lists },
  { path: /^\/lists\/([^/]+)$/, access: "user", page: list },
  { path: /^\/rooms$/, access: "user", page: rooms },
  { path: /^\/rooms\/([^/]+)$/, access: "user", page: room },
  { path: /^\/admin\/users$/, access: "admin", page: adminUsers },
  { path: /^\/admin\/audit$/, access: "admin", page: adminAudit },
];

const maria = createMaria({ mode: "cookie", baseUrl: "" });
const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const noticeBox = document.getElementById("notice") as HTMLElement;

const ENDED = "You were signed out: this session ended or the account was disabled.";

let user: User | null = null;
let booted = false;
let current: View | null = null;
let rendering = 0;
let afterSignIn = "/profile";
let noticeTimer = 0;

function notice(text: string): void {
  noticeBox.textContent = text;
  window.clearTimeout(noticeTimer);
  noticeTimer = window.setTimeout(() => (noticeBox.textContent = ""), 10_000);
}

function go(path: string, options: { replace?: boolean } = {}): void {
  const url = BASE + path;
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  void render(true);
}

function signedOut(message = "You are signed out."): void {
  if (!user) {
    notice(message); // said twice (the client's event, then the page's own word): the last wins
    return;
  }
  user = null;
  notice(message);
  afterSignIn = currentPath() + location.search;
  go("/sign-in", { replace: true });
}

function setUser(next: User): void {
  user = next;
  renderNav();
}

async function check(): Promise<void> {
  if (!user) return;
  try {
    const { data } = await maria.api.GET("/api/v1/users/me");
    if (data && user && (data.role !== user.role || data.display_name !== user.display_name)) setUser(data);
  } catch (failure) {
    // The client already tried a refresh; a 401 now means this browser is signed out.
    if (failure instanceof MariaError && failure.status === 401) {
      signedOut(ENDED);
    }
  }
}

const watch = watchSession(check);
const ctx: Ctx = { maria, go, notice, setUser, signedOut, recheck: () => watch.now() };

function link(path: string, text: string): HTMLAnchorElement {
  const here = currentPath() === path || currentPath().startsWith(`${path}/`);
  return h("a", { href: BASE + path, "aria-current": here ? "page" : null }, text);
}

function renderNav(): void {
  if (!user) {
    fill(nav, h("ul", null, h("li", null, link("/sign-in", "Sign in"))));
    return;
  }
  const items = [link("/profile", "Profile"), link("/sessions", "Sessions"), link("/lists", "Lists"), link("/rooms", "Rooms")];
  if (user.role === "admin") items.push(link("/admin/users", "Users"), link("/admin/audit", "Audit log"));
  const signOut = button("Sign out", () => {
    maria.logout("local").then(
      () => signedOut("You are signed out."),
      (failure: unknown) => notice(messageOf(failure)),
    );
  });
  fill(
    nav,
    h("ul", null, items.map((item) => h("li", null, item))),
    h("p", { class: "who" }, "Signed in as ", h("strong", null, user.display_name)),
    signOut,
  );
}

function heading(text: string): HTMLHeadingElement {
  return h("h1", { tabindex: -1 }, text);
}

async function render(moveFocus: boolean): Promise<void> {
  const token = ++rendering;
  current?.dispose?.();
  current = null;
  const path = currentPath();
  const query = new URLSearchParams(location.search);
  if (path === "/") return go(user ? "/profile" : "/sign-in", { replace: true });
  const found = match(routes, path);
  let view: View;
  if (!found) {
    view = { title: "Not found", body: [h("p", null, "There is no such page in the console.")] };
  } else if ((found.route.access === "user" || found.route.access === "admin") && !user) {
    afterSignIn = path + location.search;
    return go("/sign-in", { replace: true });
  } else if (found.route.access === "guest" && user) {
    return go("/profile", { replace: true });
  } else if (found.route.access === "admin" && user?.role !== "admin") {
    view = { title: "Not allowed", body: [h("p", null, "This page is for admins.")] };
  } else {
    main.setAttribute("aria-busy", "true");
    try {
      view = await found.route.page(ctx, user as User, found.params, query);
    } catch (failure) {
      view = { title: "Something went wrong", body: [h("p", { class: "error", role: "alert" }, messageOf(failure))] };
    }
    main.removeAttribute("aria-busy");
  }
  if (token !== rendering) {
    view.dispose?.(); // a newer navigation won
    return;
  }
  current = view;
  const title = heading(view.title);
  fill(main, title, view.body);
  document.title = `${view.title} · Maria console`;
  renderNav();
  if (moveFocus) title.focus();
}

maria.on((event: MariaEvent) => {
  if (event.type === "signedIn") {
    const was = user;
    user = event.user;
    if (booted && !was) {
      const next = afterSignIn;
      afterSignIn = "/profile";
      go(next === "/sign-in" ? "/profile" : next, { replace: true });
    }
  } else if (event.type === "signedOut") {
    signedOut(event.reason === "logout" ? "You are signed out." : ENDED);
  } else if (event.type === "user") {
    setUser(event.user);
  }
});

interceptLinks((path) => go(path));
window.addEventListener("popstate", () => void render(true));

async function boot(): Promise<void> {
  try {
    user = await maria.restore();
  } catch (failure) {
    notice(messageOf(failure));
  }
  booted = true;
  await render(false);
}

void boot();
