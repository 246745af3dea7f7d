// next.config.mjs: the browser talks to one origin, the app's. Next.js forwards Maria's
// paths to Maria, so Maria's cookies are first-party cookies of the app's host.
const MARIA_URL = process.env.MARIA_URL ?? "http://localhost:8000";

/** @type {import("next").NextConfig} */
const nextConfig = {
  async rewrites() {
    return [{ source: "/api/v1/:path*", destination: `${MARIA_URL}/api/v1/:path*` }];
  },
};

export default nextConfig;
