// Bundles and minifies each page script (static/js/pages/*.js) with its imports, including the
// Socket.IO client from npm, into static/build/. Nothing is loaded from outside the server.
import { build } from "esbuild";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pages = join(root, "static", "js", "pages");
const out = join(root, "static", "build");
const entryPoints = readdirSync(pages)
  .filter((name) => name.endsWith(".js"))
  .map((name) => join(pages, name));

await build({
  entryPoints,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020", "safari14"],
  outdir: out,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});

console.log(`built ${entryPoints.length} page scripts into static/build/`);
