// Figures for the website, not a test: what a first visit transfers, and how
// long a check takes from pressing Check to the result on a slow phone
// (4× CPU throttling), against a running server:
//
//   KHABARDAR_URL=http://127.0.0.1:8080 node bench/check-time.mjs [runs]
//
// KHABARDAR_FIXTURE (as for the browser tests) supplies the values checked;
// without it, well-formed synthetic ones are used. KHABARDAR_CHROMIUM names
// the browser (default /usr/bin/chromium).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.KHABARDAR_URL;
if (!base) {
  console.error('set KHABARDAR_URL to a running khabardar serve');
  process.exit(2);
}
const runs = Number(process.argv[2] || 7);
const fx = process.env.KHABARDAR_FIXTURE ? JSON.parse(readFileSync(process.env.KHABARDAR_FIXTURE, 'utf8')) : null;
const values = fx
  ? { cnic: fx.found.cnic[0], phone: fx.found.phone[0], imei: fx.found.imei[0] }
  : { cnic: '35202-1234567-1', phone: '0300-1234567', imei: '352099001761481' };

const dir = mkdtempSync(join(tmpdir(), 'khabardar-bench-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.KHABARDAR_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 360, height: 740 },
});
try {
  const page = ctx.pages()[0] || (await ctx.newPage());
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');

  // First visit: every response's bytes on the wire (headers included) and
  // its body as sent (compressed) and as decoded.
  const reqs = new Map();
  cdp.on('Network.responseReceived', (e) => {
    reqs.set(e.requestId, { url: e.response.url, headers: e.response.encodedDataLength, wire: 0, decoded: 0 });
  });
  cdp.on('Network.dataReceived', (e) => {
    const r = reqs.get(e.requestId);
    if (r) r.decoded += e.dataLength;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = reqs.get(e.requestId);
    if (r) r.wire = e.encodedDataLength;
  });
  await page.goto(base + '/', { waitUntil: 'networkidle' });
  await page.waitForFunction(() => /^[0-9a-f]{16}$/.test(document.getElementById('key-id').textContent));

  const rows = [...reqs.values()].map((r) => ({ ...r, path: new URL(r.url).pathname }));
  const pad = (s, n) => String(s).padStart(n);
  console.log('first visit (fresh profile)');
  console.log(`${'file'.padEnd(34)}${pad('wire B', 9)}${pad('body B', 9)}${pad('decoded', 9)}`);
  const sum = { wire: 0, body: 0, decoded: 0 };
  for (const r of rows) {
    const body = r.wire - r.headers;
    console.log(`${r.path.padEnd(34)}${pad(r.wire, 9)}${pad(body, 9)}${pad(r.decoded, 9)}`);
    sum.wire += r.wire;
    sum.body += body;
    sum.decoded += r.decoded;
  }
  console.log(`${'total'.padEnd(34)}${pad(sum.wire, 9)}${pad(sum.body, 9)}${pad(sum.decoded, 9)}`);

  // Checks under 4× CPU throttling, timed in the page from the click to the
  // first result on screen.
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const timeCheck = (v) => page.evaluate(async (vals) => {
    for (const k of ['cnic', 'phone', 'imei']) document.getElementById(k).value = vals[k] || '';
    const results = document.getElementById('results');
    results.textContent = '';
    const done = new Promise((resolve) => {
      const mo = new MutationObserver(() => {
        if (results.querySelector('.result, #lookup-error')) {
          mo.disconnect();
          resolve(performance.now());
        }
      });
      mo.observe(results, { childList: true, subtree: true });
    });
    const t0 = performance.now();
    document.getElementById('check').click();
    const t1 = await done;
    if (results.querySelector('#lookup-error')) throw new Error('the check failed: ' + results.textContent);
    return t1 - t0;
  }, v);
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`\ncheck to result, 4x CPU throttling, ${runs} runs (ms)`);
  console.log(`${'identifiers'.padEnd(14)}${pad('median', 8)}${pad('min', 8)}${pad('max', 8)}`);
  for (const [label, v] of [['1 (phone)', { phone: values.phone }], ['3', values]]) {
    await timeCheck(v); // warm: the first check also compiles the curve code
    const t = [];
    for (let i = 0; i < runs; i++) t.push(await timeCheck(v));
    console.log(`${label.padEnd(14)}${pad(median(t).toFixed(0), 8)}${pad(Math.min(...t).toFixed(0), 8)}${pad(Math.max(...t).toFixed(0), 8)}`);
  }
} finally {
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}
