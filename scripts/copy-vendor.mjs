// Copy the browser builds of the npm dependencies into static/vendor/ (git-ignored).
// Run after `npm ci`: node scripts/copy-vendor.mjs
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "static", "vendor");

// [package, file inside node_modules/<package>, name under static/vendor]
const FILES = [
  ["socket.io-client", "dist/socket.io.esm.min.js", "socket.io.esm.min.js"],
  ["socket.io-client", "dist/socket.io.esm.min.js.map", "socket.io.esm.min.js.map"],
  ["uplot", "dist/uPlot.esm.js", "uPlot.esm.js"],
  ["uplot", "dist/uPlot.min.css", "uPlot.min.css"],
];

mkdirSync(vendor, { recursive: true });
const versions = {};
for (const [pkg, file, target] of FILES) {
  const source = join(root, "node_modules", pkg, file);
  if (!existsSync(source)) {
    console.error(`missing ${source}: run \`npm ci\` first`);
    process.exit(1);
  }
  copyFileSync(source, join(vendor, target));
  const manifest = JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8"));
  versions[pkg] = manifest.version;
}
writeFileSync(join(vendor, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`static/vendor: ${FILES.length} files (${Object.entries(versions).map(([p, v]) => `${p} ${v}`).join(", ")})`);
