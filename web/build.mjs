// Build the pages into ../api/static/ (committed, so installing the Python package needs no npm).
//   npm ci && npm run build
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const out = new URL("../api/static/", import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { sparql: "src/sparql.js", entity: "src/entity.js" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  // Licence texts of the bundled packages go to *.LEGAL.txt beside the bundles.
  legalComments: "external",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
for (const page of ["sparql.html", "entity.html"]) copyFileSync(`src/${page}`, `${out}${page}`);

// The licence of every runtime package (package-lock.json, dev tools left out): the YASGUI build
// already contains its own dependencies (CodeMirror, jQuery, DataTables, N3, ...), so list them all.
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const runtime = Object.entries(lock.packages)
  .filter(([path, meta]) => path.startsWith("node_modules/") && !meta.dev)
  .map(([path]) => path)
  .sort();
const notices = runtime.map((dir) => {
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|-mit|$)/i.test(f));
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `(no licence file in the package; package.json: ${meta.license})`;
  return `${meta.name} ${meta.version} (${meta.license})\n${"-".repeat(72)}\n${text}\n`;
});
writeFileSync(
  `${out}THIRD-PARTY-LICENSES.txt`,
  `Runtime packages of sparql.js / entity.js (built from web/ by npm run build), with their licences:\n\n${notices.join("\n\n")}`,
);

for (const name of readdirSync(out).sort()) {
  const bytes = statSync(out + name).size;
  const gzip = gzipSync(readFileSync(out + name)).length;
  console.log(`${name.padEnd(24)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${(gzip / 1024).toFixed(1).padStart(7)} KiB gzip`);
}
