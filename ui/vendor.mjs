// Copies the web console's third-party files from node_modules (installed with `npm ci` from the lockfile) into
// src/Corral/WebConsole/wwwroot/vendor, where Corral serves them from. The copies are committed, so that `dotnet run`
// serves the console with no npm at all; `node vendor.mjs --check` (CI) fails when a copy differs from the package.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', 'src', 'Corral', 'WebConsole', 'wwwroot', 'vendor');
// uPlot: small, fast time-series charts, no dependencies (MIT).
const files = [
  ['uplot/dist/uPlot.esm.js', 'uPlot.esm.js'],
  ['uplot/dist/uPlot.min.css', 'uPlot.min.css'],
  ['uplot/LICENSE', 'uPlot.LICENSE.txt'],
];

const check = process.argv.includes('--check');
let stale = 0;
mkdirSync(target, { recursive: true });
for (const [from, to] of files) {
  const source = readFileSync(join(here, 'node_modules', from));
  const destination = join(target, to);
  if (check) {
    if (!existsSync(destination) || !readFileSync(destination).equals(source)) {
      console.error(`vendor: ${to} differs from node_modules/${from}; run \`npm ci && npm run vendor\` in ui/ and commit the result`);
      stale++;
    }
  } else {
    writeFileSync(destination, source);
    console.log(`vendor: node_modules/${from} -> src/Corral/WebConsole/wwwroot/vendor/${to}`);
  }
}
if (check) {
  console.log(stale === 0 ? `vendor: ${files.length} files are current` : `vendor: ${stale} of ${files.length} files are stale`);
}
process.exit(stale === 0 ? 0 : 1);
