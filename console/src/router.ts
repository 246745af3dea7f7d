// History routing under /console: the path picks a page, links inside the console navigate
// without reloading, and each navigation moves focus to the new page's heading.

import type { GuestPage, Page } from "./context";

export const BASE = "/console";

export type Access = "guest" | "any" | "user" | "admin";
export interface Route {
  path: RegExp;
  access: Access;
  page: Page | GuestPage;
}

/** The console path of the current location ("/lists/favorites"), without the base. */
export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  return path === "" ? "/" : path;
}

export function match(routes: Route[], path: string): { route: Route; params: string[] } | null {
  for (const route of routes) {
    const found = route.path.exec(path);
    if (found) return { route, params: found.slice(1) };
  }
  return null;
}

/** Clicks on links to console paths navigate in place (new-tab and download clicks don't). */
export function interceptLinks(go: (path: string) => void): void {
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest("a") : null;
    if (!link || link.target || link.hasAttribute("download") || !link.href) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin || !(url.pathname === BASE || url.pathname.startsWith(`${BASE}/`))) return;
    event.preventDefault();
    go(url.pathname.slice(BASE.length) + url.search);
  });
}
