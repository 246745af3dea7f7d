// Builds what Maria serves at /console, /docs and /redoc into one folder (by default the
// Python package's src/maria/console/static/, which is committed):
//   index.html, docs.html, redoc.html   pages, served with no-cache
//   assets/<name>-<hash>.<ext>          the console's bundle and the vendored docs assets,
//                                       named by their content so they can be cached forever
//   THIRD_PARTY_LICENSES.txt            the vendored packages' licenses
// The output depends only on the sources and the locked packages: tests/console rebuilds it
// into a temporary folder and compares it with the committed one.
//
//   node build.mjs [OUTDIR]

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "..", "src", "maria", "console", "static"));
const assets = join(out, "assets");
const modules = join(here, "node_modules");
const client = join(here, "..", "clients", "typescript");

function run(command, args, cwd) {
  const done = spawnSync(command, args, { cwd, stdio: "inherit" });
  if (done.status !== 0) throw new Error(`${command} ${args.join(" ")} failed in ${cwd}`);
}

/** The asset's file name: its stem and the first 10 hex digits of its SHA-256. */
function hashed(stem, ext, content) {
  const digest = createHash("sha256").update(content).digest("hex").slice(0, 10);
  return `${stem}-${digest}.${ext}`;
}

/** Source-map comments name files that are not shipped. */
function withoutSourceMap(text) {
  return text.replace(/\n?\/[/*]# sourceMappingURL=\S+(?: \*\/)?\s*$/, "\n");
}

function emit(stem, ext, content) {
  const name = hashed(stem, ext, content);
  writeFileSync(join(assets, name), content);
  return `/console/assets/${name}`;
}

/** A package's file as served; ``replace`` swaps a URL to another host for a local one (each
 * must occur, so an upgrade that moves it fails the build instead of going unnoticed). */
function vendored(stem, ext, path, replace = {}) {
  let text = withoutSourceMap(readFileSync(join(modules, path), "utf8"));
  for (const [from, to] of Object.entries(replace)) {
    if (!text.includes(from)) throw new Error(`${path} no longer contains ${from}`);
    text = text.replaceAll(from, to);
  }
  return emit(stem, ext, text);
}

function page(template, values) {
  let html = readFileSync(join(here, template), "utf8");
  for (const [key, value] of Object.entries(values)) html = html.replaceAll(`{{${key}}}`, value);
  const left = html.match(/\{\{\w+\}\}/);
  if (left) throw new Error(`${template}: no value for ${left[0]}`);
  return html;
}

// The client is imported from its built dist/ (file:../clients/typescript): build it, then
// type-check the console against it (esbuild only strips types).
if (!existsSync(join(client, "node_modules"))) run("npm", ["ci", "--no-audit", "--no-fund"], client);
run("npm", ["run", "--silent", "build"], client);
run(join(modules, ".bin", "tsc"), ["-p", join(here, "tsconfig.json")], here);

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const bundle = await esbuild.build({
  entryPoints: { app: join(here, "src", "main.ts"), style: join(here, "src", "app.css") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  legalComments: "eof",
  charset: "utf8",
  write: false,
  outdir: "out",
  logLevel: "warning",
});
const built = Object.fromEntries(
  bundle.outputFiles.map((file) => [file.path.split(/[\\/]/).pop(), file.contents]),
);

const favicon = emit("favicon", "svg", readFileSync(join(here, "src", "favicon.svg")));
const urls = {
  favicon,
  appJs: emit("app", "js", built["app.js"]),
  appCss: emit("app", "css", built["style.css"]),
  swaggerJs: vendored("swagger-ui-bundle", "js", "swagger-ui-dist/swagger-ui-bundle.js"),
  swaggerCss: vendored("swagger-ui", "css", "swagger-ui-dist/swagger-ui.css"),
  // ReDoc's sidebar footer shows a logo from its CDN: ours instead.
  redocJs: vendored("redoc.standalone", "js", "redoc/bundles/redoc.standalone.js", {
    "https://cdn.redoc.ly/redoc/logo-mini.svg": favicon,
  }),
};
urls.swaggerInit = emit("swagger-init", "js", readFileSync(join(here, "docs", "swagger-init.js")));
urls.redocInit = emit("redoc-init", "js", readFileSync(join(here, "docs", "redoc-init.js")));

writeFileSync(join(out, "index.html"), page("index.html", urls));
writeFileSync(join(out, "docs.html"), page(join("docs", "docs.html"), urls));
writeFileSync(join(out, "redoc.html"), page(join("docs", "redoc.html"), urls));

const licenses = [
  ["swagger-ui-dist", ["LICENSE", "NOTICE"]],
  ["redoc", ["LICENSE"]],
].flatMap(([name, files]) => {
  const version = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")).version;
  return files.map(
    (file) => `== ${name} ${version}: ${file} ==\n\n${readFileSync(join(modules, name, file), "utf8").trim()}\n`,
  );
});
writeFileSync(join(out, "THIRD_PARTY_LICENSES.txt"), licenses.join("\n"));

console.log(`built ${out}`);
