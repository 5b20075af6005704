// Copy the browser builds of the npm dependencies into static/vendor/ (git-ignored), minified.
// Run after `npm ci`: node scripts/copy-vendor.mjs
// uPlot ships its ES module unminified (146 KB); terser shrinks it at build time so the page
// never sends the readable copy. Files that are already minified are copied as they are.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { minify } from "terser";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "static", "vendor");

// [package, file inside node_modules/<package>, name under static/vendor, minify?]
const FILES = [
  ["socket.io-client", "dist/socket.io.esm.min.js", "socket.io.esm.min.js", false],
  ["uplot", "dist/uPlot.esm.js", "uPlot.esm.js", true],
  ["uplot", "dist/uPlot.min.css", "uPlot.min.css", false],
];

mkdirSync(vendor, { recursive: true });
const versions = {};
for (const [pkg, file, target, shrink] of FILES) {
  const source = join(root, "node_modules", pkg, file);
  if (!existsSync(source)) {
    console.error(`missing ${source}: run \`npm ci\` first`);
    process.exit(1);
  }
  if (shrink) {
    const result = await minify(readFileSync(source, "utf8"), { module: true, compress: true, mangle: true });
    writeFileSync(join(vendor, target), result.code);
  } else {
    copyFileSync(source, join(vendor, target));
  }
  const manifest = JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8"));
  versions[pkg] = manifest.version;
}
writeFileSync(join(vendor, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`static/vendor: ${FILES.length} files (${Object.entries(versions).map(([p, v]) => `${p} ${v}`).join(", ")})`);
