/**
 * What a browser does with Maria's cookies, for cookie mode in Node (whose fetch keeps
 * none): keep what `Set-Cookie` sets (name, value, path, expiry), send back the ones whose
 * path matches, drop the ones cleared. One origin only, which is all these tests use.
 */
const realFetch = globalThis.fetch; // the network's, even where a test puts this jar's in its place

interface Cookie {
  value: string;
  path: string;
  expires: number | null; // ms; null: a session cookie
  httpOnly: boolean;
}

export class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  /** A fetch that sends and stores this jar's cookies (like `credentials: "include"`). */
  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    const header = this.header(path);
    if (header) request.headers.set("Cookie", header);
    const response = await realFetch(request);
    for (const line of response.headers.getSetCookie()) this.store(line);
    return response;
  };

  get(name: string): string | null {
    const cookie = this.cookies.get(name);
    if (cookie === undefined) return null;
    if (cookie.expires !== null && cookie.expires <= Date.now()) {
      this.cookies.delete(name);
      return null;
    }
    return cookie.value;
  }

  /** What `document.cookie` shows: the cookies scripts may read. */
  readable(name: string): string | null {
    return this.cookies.get(name)?.httpOnly ? null : this.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  /** The `Set-Cookie` headers of an answer the browser got some other way (a page whose
   * server renewed the session). */
  receive(setCookie: string[]): void {
    for (const line of setCookie) this.store(line);
  }

  /** As the browser does when the access cookie's Max-Age runs out. */
  expire(name: string): void {
    this.cookies.delete(name);
  }

  /** The cookies a request to `path` carries, as a server reads them (`cookies().get`). */
  sentTo(path: string): { get(name: string): { value: string } | undefined } {
    const sent = new Map(
      this.header(path)
        .split("; ")
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)] as const),
    );
    return { get: (name) => (sent.has(name) ? { value: sent.get(name)! } : undefined) };
  }

  /** What `document.cookie` shows on the page: the cookies scripts may read. */
  documentCookie(): string {
    const parts: string[] = [];
    for (const name of this.cookies.keys()) {
      const value = this.readable(name);
      if (value !== null) parts.push(`${name}=${value}`);
    }
    return parts.join("; ");
  }

  header(path: string): string {
    const parts: string[] = [];
    for (const [name, cookie] of this.cookies) {
      if (this.get(name) === null) continue;
      if (path === cookie.path || path.startsWith(cookie.path.endsWith("/") ? cookie.path : `${cookie.path}/`)) {
        parts.push(`${name}=${cookie.value}`);
      }
    }
    return parts.join("; ");
  }

  private store(line: string): void {
    const [pair, ...attributes] = line.split(";").map((part) => part.trim());
    const at = (pair ?? "").indexOf("=");
    if (at <= 0) return;
    const name = pair!.slice(0, at);
    const value = pair!.slice(at + 1).replace(/^"|"$/g, "");
    const cookie: Cookie = { value, path: "/", expires: null, httpOnly: false };
    for (const attribute of attributes) {
      const [key = "", arg = ""] = attribute.split("=");
      const lower = key.toLowerCase();
      if (lower === "path") cookie.path = arg;
      else if (lower === "max-age") cookie.expires = Date.now() + Number(arg) * 1000;
      else if (lower === "expires" && cookie.expires === null) cookie.expires = Date.parse(arg);
      else if (lower === "httponly") cookie.httpOnly = true;
    }
    if (cookie.expires !== null && cookie.expires <= Date.now()) this.cookies.delete(name);
    else this.cookies.set(name, cookie);
  }
}
