// Builds dist/: index.html and stats.html (from src/, with the English
// strings of src/i18n.js filled in and the hashed asset names),
// assets/app-HASH.js (the citizen page), assets/stats-HASH.js (the
// statistics page: no cryptography, so a bundle of its own), the shared
// assets/app-HASH.css and favicon.svg. The output depends only on the
// sources: running it twice writes the same bytes (CI rebuilds and compares).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { STRINGS } from './src/i18n.js';

const root = new URL('.', import.meta.url);
const src = (p) => new URL('src/' + p, root);
const dist = new URL('dist/', root);

// Old Android phones run old Chrome: syntax is lowered to ES2019; the oldest
// Chrome with every API the page uses (globalThis, for noble's randomness;
// BigInt, for its arithmetic) is 71.
const target = ['es2019', 'chrome71'];

async function bundle(entry, ext, prefix = 'app') {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: ext === 'js' ? 'iife' : undefined,
    target,
    charset: 'utf8',
    legalComments: 'eof',
    write: false,
    logLevel: 'warning',
    absWorkingDir: new URL('.', root).pathname,
  });
  const code = r.outputFiles[0].contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 10);
  return { name: `assets/${prefix}-${hash}.${ext}`, code };
}

const escapeHTML = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// page fills each empty element marked data-i18n with its English string,
// checking that both languages have it.
function page(name, template, css, js) {
  let filled = 0;
  const html = template.replace(/(<(\w+)[^>]*\sdata-i18n="(\w+)"[^>]*>)(<\/\2>)/g, (_, open, tag, key, close) => {
    for (const lang of Object.keys(STRINGS)) {
      if (typeof STRINGS[lang][key] !== 'string') throw new Error(`i18n: ${lang} has no string ${key}`);
    }
    filled++;
    return open + escapeHTML(STRINGS.en[key]) + close;
  });
  if (filled !== template.split(' data-i18n="').length - 1) {
    throw new Error(name + ': an element marked data-i18n is not empty');
  }
  return html.replace('{{css}}', css).replace('{{js}}', js);
}

const js = await bundle('src/main.js', 'js');
const statsJS = await bundle('src/stats.js', 'js', 'stats');
const css = await bundle('src/style.css', 'css');
const html = (name, script) => Buffer.from(page(name, readFileSync(src(name), 'utf8'), css.name, script.name));
const files = {
  'index.html': html('index.html', js),
  'stats.html': html('stats.html', statsJS),
  'favicon.svg': readFileSync(src('favicon.svg')),
  [js.name]: js.code,
  [statsJS.name]: statsJS.code,
  [css.name]: css.code,
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(new URL('assets/', dist), { recursive: true });
let total = [0, 0, 0];
console.log('file'.padEnd(28), 'bytes'.padStart(8), 'gzip'.padStart(8), 'brotli'.padStart(8));
for (const [name, body] of Object.entries(files)) {
  writeFileSync(new URL(name, dist), body);
  const sizes = [body.length, gzipSync(body, { level: 9 }).length,
    brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length];
  total = total.map((t, i) => t + sizes[i]);
  console.log(name.padEnd(28), ...sizes.map((n) => String(n).padStart(8)));
}
console.log('total'.padEnd(28), ...total.map((n) => String(n).padStart(8)));
