// lib/middleware.ts: what proxy.ts (middleware.ts before Next.js 16) runs before every page
// request, on the standard Request, Response and Headers (the Next.js glue is a few lines).
// It renews an expired session here, once per request, so that the server components of this
// very request read the fresh access cookie and the browser gets the new cookies with the page.
import { refreshSessionCookies } from "@kinoway/maria";

import { headerCookies, signInRedirect } from "./session.js";

const PRIVATE = /^\/(account|lists)(\/|$)/;

/** `next(headers)`: go on to the page with these request headers (NextResponse.next). */
export async function sessionMiddleware(request: Request, next: (requestHeaders: Headers) => Response): Promise<Response> {
  const session = await refreshSessionCookies({
    baseUrl: process.env.MARIA_URL ?? "http://localhost:8000",
    cookieHeader: request.headers.get("cookie"),
    forwardedFor: request.headers.get("x-forwarded-for"), // the browser's address, for Maria's limits
  });
  const url = new URL(request.url);
  const target = PRIVATE.test(url.pathname) ? signInRedirect(url, headerCookies(session.cookieHeader)) : null;
  let response: Response;
  if (target) {
    response = new Response(null, { status: 307, headers: { Location: target.href } });
  } else {
    const headers = new Headers(request.headers);
    if (session.cookieHeader) headers.set("cookie", session.cookieHeader); // what cookies() reads
    else headers.delete("cookie");
    response = next(headers);
  }
  for (const line of session.setCookie) response.headers.append("Set-Cookie", line);
  return response;
}
