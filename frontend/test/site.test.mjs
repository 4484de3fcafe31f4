// Browser tests of the website against a real "khabardar serve", run by the
// Go harness (go test ./cmd/khabardar -run TestSite), which sets:
//
//   KHABARDAR_URL                 a server with the fixture's listing ingested
//   KHABARDAR_LIMITED_URL         a server allowing KHABARDAR_LIMITED_EVALUATIONS evaluations an hour
//   KHABARDAR_FIXTURE             {"listing", "found": {kind: [typed]}, "absent": {kind: [typed]}}
//   KHABARDAR_SCREENSHOTS         where to save screenshots of the main states
//   KHABARDAR_CHROMIUM            the browser (default /usr/bin/chromium)
//
// Every session records every request, response, cookie and console line,
// and ends by checking that none of them holds an identifier typed in it,
// in any form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, REASONS } from '../src/identifier.js';
import { STRINGS, formatDate } from '../src/i18n.js';

const BASE = process.env.KHABARDAR_URL;
const skip = BASE ? false : 'KHABARDAR_URL is not set: these run from the Go harness, go test ./cmd/khabardar -run TestSite';
const KINDS = ['cnic', 'phone', 'imei'];
const TIMEOUT = 120_000;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

const fixture = BASE ? JSON.parse(readFileSync(process.env.KHABARDAR_FIXTURE, 'utf8')) : null;
const shotsDir = process.env.KHABARDAR_SCREENSHOTS || '';
if (shotsDir) mkdirSync(shotsDir, { recursive: true });

const { chromium } = BASE ? await import('playwright-core') : {};

// ---- sessions ----

// session runs fn with a page in a Chromium with a fresh profile,
// recording everything the page sends and receives; when fn succeeds it
// checks that none of it holds an identifier typed during the session.
async function session({ base = BASE, locale = 'en-US' } = {}, fn) {
  const dir = mkdtempSync(join(tmpdir(), 'khabardar-profile-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.KHABARDAR_CHROMIUM || '/usr/bin/chromium',
    args: ARGS, locale, viewport: { width: 360, height: 740 },
  });
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    const s = { ctx, page, base, requests: [], pending: [], console: [], errors: [], typed: [] };
    ctx.on('request', (r) => {
      const rec = { url: r.url(), method: r.method(), postData: r.postData() || '', headers: {} };
      s.requests.push(rec); // in the order they are made
      s.pending.push(r.allHeaders().then((h) => { rec.headers = h; }));
    });
    ctx.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      // The page's own files, the favicon included, all exist.
      if (r.status() >= 400 && !path.startsWith('/v1/')) s.errors.push(`${path}: ${r.status()}`);
      s.pending.push(r.allHeaders().then((h) => {
        if ('set-cookie' in h) s.errors.push('a response sets a cookie: ' + path);
      }));
    });
    page.on('console', (m) => s.console.push(m.text()));
    page.on('pageerror', (e) => s.errors.push('page error: ' + e.message));
    await page.goto(base + '/');
    await page.waitForFunction(() => /^[0-9a-f]{16}$/.test(document.getElementById('key-id').textContent));
    await fn(s);
    await assertPrivate(s);
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// check fills the boxes (kind → value; the others are emptied), presses
// Check and waits for the outcome. It returns the requests the check made.
async function check(s, values) {
  const { page } = s;
  for (const k of KINDS) {
    const v = values[k] || '';
    await page.fill('#' + k, v);
    // Remembered for the privacy check if it is an identifier of any kind.
    const id = parse(k, v).canonical ? parse(k, v) : parse('', v);
    if (id.canonical) s.typed.push({ kind: id.kind, typed: v });
  }
  const before = s.requests.length;
  await page.click('#check');
  await page.waitForFunction(() => {
    const r = document.getElementById('results');
    return r.getAttribute('aria-busy') === 'false' && (r.querySelector('.result, #lookup-error') ||
      !document.getElementById('form-error').hidden);
  });
  await Promise.all(s.pending);
  return s.requests.slice(before);
}

// attr is an attribute of the first element matching sel, or null.
const attr = (s, sel, name) => s.page.$eval(sel, (e, n) => e.getAttribute(n), name).catch(() => null);

const setLang = async (s, lang) => {
  if ((await s.page.getAttribute('html', 'lang')) !== lang) await s.page.click('#lang-toggle');
  assert.equal(await s.page.getAttribute('html', 'lang'), lang);
};

// shot saves a full-page screenshot at 360 px and one at 320 px.
async function shot(s, name) {
  if (!shotsDir) return;
  const { page } = s;
  await page.screenshot({ path: join(shotsDir, `${name}-360x740.png`), fullPage: true });
  await page.setViewportSize({ width: 320, height: 740 });
  await page.screenshot({ path: join(shotsDir, `${name}-320.png`), fullPage: true });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), `${name}: wider than 320 px`);
  await page.setViewportSize({ width: 360, height: 740 });
}

const text = (s, sel) => s.page.$eval(sel, (e) => e.textContent.trim());

// ---- privacy ----

const toScript = (ascii, zero) => ascii.replace(/\d/g, (d) => String.fromCharCode(zero + +d));
const asciiDigits = (s) => [...s].map((c) => {
  const r = c.codePointAt(0);
  for (const zero of [0x30, 0x660, 0x6f0, 0xff10]) if (r >= zero && r <= zero + 9) return String(r - zero);
  return '';
}).join('');
const hashes = (s) => ['sha1', 'sha256'].map((a) => createHash(a).update(s).digest('hex'));

// forms returns every form of a typed identifier a request must not hold.
function forms({ kind, typed }) {
  const canonical = parse(kind, typed).canonical;
  assert.ok(canonical, 'a typed value that does not parse cannot be checked for');
  const value = canonical.slice(canonical.indexOf(':') + 1);
  const digits = asciiDigits(typed);
  const out = new Set([typed, typed.trim(), digits, canonical, value, ...hashes(canonical), ...hashes(value)]);
  if (kind === 'phone') {
    const nsn = value.slice(3);
    for (const f of ['0' + nsn, '92' + nsn, '0092' + nsn, nsn, `0${nsn.slice(0, 3)}-${nsn.slice(3)}`, `+92 ${nsn.slice(0, 3)} ${nsn.slice(3)}`]) out.add(f);
  }
  if (kind === 'cnic') out.add(`${value.slice(0, 5)}-${value.slice(5, 12)}-${value.slice(12)}`);
  if (kind === 'imei') out.add(value); // the 14-digit core, also inside longer forms
  for (const f of [...out]) {
    if (/^\d+$/.test(f)) {
      out.add(toScript(f, 0x6f0));
      out.add(toScript(f, 0x660));
    }
  }
  for (const f of [...out]) {
    out.add(encodeURIComponent(f));
    out.add(encodeURIComponent(f).replace(/%20/g, '+'));
    out.add(f.replace(/[^\x00-\x7f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));
    out.add(Buffer.from(f).toString('base64'));
    out.add(Buffer.from(f).toString('base64url'));
  }
  return [...out].filter((f) => f.length >= 8).map((f) => f.toLowerCase());
}

async function assertPrivate(s) {
  await Promise.all(s.pending);
  const origin = new URL(s.base).origin;
  const needles = s.typed.flatMap(forms);
  for (const r of s.requests) {
    assert.equal(new URL(r.url).origin, origin, 'a request left the server’s origin: ' + r.url);
    assert.ok(!('cookie' in r.headers), 'a request carries a cookie');
    let decoded = r.url;
    try {
      decoded = decodeURIComponent(r.url);
    } catch {
      // not percent-encoded text: the raw URL is searched
    }
    const hay = [r.url, decoded, JSON.stringify(r.headers), r.postData].join('\n').toLowerCase();
    for (const n of needles) {
      // The identifier itself is never printed: only which request held it.
      assert.ok(!hay.includes(n), `${r.method} ${new URL(r.url).pathname.split('/').slice(0, 3).join('/')} holds a typed identifier in some form`);
    }
  }
  const logs = s.console.join('\n').toLowerCase();
  assert.ok(!needles.some((n) => logs.includes(n)), 'the console holds a typed identifier');
  assert.ok(!logs.includes('content security policy'), 'the page breaks its CSP:\n' + logs);
  assert.deepEqual(s.errors, []);
  assert.deepEqual(await s.ctx.cookies(), [], 'a cookie was set');
  const page = s.page;
  assert.ok(!/[?#]/.test(page.url()), 'the page URL changed');
  const stored = await page.evaluate(() => ({ local: Object.keys(localStorage), session: sessionStorage.length }));
  assert.ok(stored.local.every((k) => k === 'khabardar.lang'), 'localStorage holds ' + stored.local.join(', '));
  assert.equal(stored.session, 0);
}

// routes returns the API routes of requests, with bucket prefixes elided.
const routes = (reqs) => reqs.filter((r) => new URL(r.url).pathname.startsWith('/v1/'))
  .map((r) => r.method + ' ' + new URL(r.url).pathname.replace(/^\/v1\/buckets\/[0-9a-f]+$/, '/v1/buckets/{prefix}'));

// ---- tests ----

test('the key id and fingerprint shown are those of /v1/config', { skip, timeout: TIMEOUT }, async () => {
  const cfg = await (await fetch(BASE + '/v1/config')).json();
  const sum = createHash('sha256').update(Buffer.from(cfg.public_key, 'base64url')).digest('hex');
  assert.equal(cfg.fingerprint, sum.match(/.{4}/g).join(' '));
  await session({}, async (s) => {
    assert.equal(await text(s, '#key-id'), cfg.key_id);
    assert.equal(await text(s, '#key-fingerprint'), cfg.fingerprint);
  });
});

// rounds groups values by kind into checks of up to one value of each kind.
const rounds = (set) => Array.from({ length: Math.max(...KINDS.map((k) => (set[k] || []).length)) },
  (_, i) => Object.fromEntries(KINDS.filter((k) => (set[k] || [])[i]).map((k) => [k, set[k][i]])));

test('found and not found, for each kind', { skip, timeout: TIMEOUT }, async () => {
  const l = fixture.listing;
  await session({}, async (s) => {
    for (const [i, values] of rounds(fixture.found).entries()) {
      const r = routes(await check(s, values));
      assert.equal(r.filter((x) => x === 'POST /v1/evaluate').length, 1, 'one evaluation per check');
      assert.equal(r[r.length - 1], 'GET /v1/listings', 'the whole catalogue, last');
      assert.ok(r.every((x) => !x.startsWith('GET /v1/listings/')), 'never one listing by id');
      for (const kind of Object.keys(values)) {
        const sel = `.result[data-kind="${kind}"]`;
        assert.equal(await attr(s, sel, 'data-found'), 'true', `found ${kind} #${i + 1}`);
        const ls = sel + ` .listing[data-listing-id="${l.id}"]`;
        assert.equal(await text(s, ls + ' h3'), l.title);
        const dl = await text(s, ls + ' dl');
        for (const want of [STRINGS.en.source_kind[l.source.kind], formatDate('en', l.first_seen), STRINGS.en.status_name[l.status]]) {
          assert.ok(dl.includes(want), `listing details lack ${want}`);
        }
        for (const c of l.categories) {
          const row = ls + ` tr[data-category="${c.category}"]`;
          assert.equal(await text(s, row + ' th'), STRINGS.en.category[c.category]);
          assert.equal(await text(s, row + ' td'), STRINGS.en.price(c.price_pkr));
        }
      }
      for (const c of l.categories) {
        if (c.category !== 'other') assert.ok(await s.page.$(`#advice [data-category="${c.category}"] li`), `advice for ${c.category}`);
      }
      assert.ok(await s.page.$('#advice [data-step="report_1799"]'));
      assert.ok(await s.page.$('#advice [data-step="refuse_calls"]'));
      if (i === 0) {
        await shot(s, 'en-found');
        await setLang(s, 'ur');
        assert.equal(await text(s, `.result[data-kind="${Object.keys(values)[0]}"] .verdict`), STRINGS.ur.found(1));
        await shot(s, 'ur-found');
        await setLang(s, 'en');
      }
    }

    for (const [i, values] of rounds(fixture.absent).entries()) {
      await check(s, values);
      for (const kind of Object.keys(values)) {
        const sel = `.result[data-kind="${kind}"]`;
        assert.equal(await attr(s, sel, 'data-found'), 'false', `absent ${kind} #${i + 1}`);
        assert.equal(await text(s, sel + ' .verdict'), STRINGS.en.not_found);
        assert.ok((await text(s, sel)).includes(STRINGS.en.not_found_text));
      }
      assert.equal(await s.page.$('#advice'), null);
      if (i === 0) {
        await shot(s, 'en-not-found');
        await setLang(s, 'ur');
        await shot(s, 'ur-not-found');
        await setLang(s, 'en');
      }
    }
  });
});

// invalidCases picks, for each reason, a rejected input of the case files
// that a box of the page can be given: one with a kind.
function invalidCases() {
  const byReason = new Map();
  for (const file of ['identifiers.json', 'extra_cases.json']) {
    const cases = JSON.parse(readFileSync(new URL(`../../identifier/testdata/${file}`, import.meta.url), 'utf8')).cases;
    for (const c of cases) {
      const kind = c.kind === 'mobile' || c.kind === 'msisdn' ? 'phone' : c.kind;
      if (!c.reject || !KINDS.includes(kind) || c.input.trim() === '') continue;
      const reason = parse(kind, c.input).reason;
      if (!byReason.has(reason)) byReason.set(reason, { kind, input: c.input, reason });
    }
  }
  return byReason;
}

test('every invalid-input message, in both languages', { skip, timeout: TIMEOUT }, async () => {
  const cases = invalidCases();
  // Only kind detection, which the page does not ask for, gives the others.
  assert.deepEqual(REASONS.filter((r) => !cases.has(r)), ['unrecognised', 'ambiguous']);
  await session({}, async (s) => {
    for (const lang of ['en', 'ur']) {
      await setLang(s, lang);
      for (const c of cases.values()) {
        assert.deepEqual(routes(await check(s, { [c.kind]: c.input })), [], 'nothing is sent for an invalid entry');
        const err = `#${c.kind}-error`;
        assert.equal(await attr(s, err, 'data-reason'), c.reason);
        const msg = STRINGS[lang].reason[c.reason];
        assert.ok((await text(s, err)).startsWith(typeof msg === 'object' ? msg[c.kind] : msg), `${lang} message for ${c.reason}`);
        assert.equal(await attr(s, '#' + c.kind, 'aria-invalid'), 'true');
        assert.equal(await text(s, '#form-error'), STRINGS[lang].fix_errors(1));
        assert.equal(await s.page.evaluate(() => document.activeElement.id), c.kind, 'focus moves to the entry to correct');
      }
      await check(s, { cnic: '35202-1234567-X', phone: '03381234567', imei: '352099001761482' });
      assert.equal(await text(s, '#form-error'), STRINGS[lang].fix_errors(3));
      await shot(s, lang + '-invalid');
    }
    // A number in the wrong box gets a hint to move it, and is not sent.
    await setLang(s, 'en');
    assert.deepEqual(routes(await check(s, { cnic: fixture.absent.phone[0] })), []);
    assert.ok((await text(s, '#cnic-error')).endsWith(STRINGS.en.looks_like.phone));
    await check(s, {});
    assert.equal(await text(s, '#form-error'), STRINGS.en.need_one);
  });
});

test('Urdu: right to left, remembered, and picked from the browser', { skip, timeout: TIMEOUT }, async () => {
  await session({ locale: 'en-US' }, async (s) => {
    assert.equal(await attr(s, 'html', 'lang'), 'en');
    assert.equal(await attr(s, 'html', 'dir'), 'ltr');
    assert.equal(await text(s, '#lang-toggle'), STRINGS.en.other_lang);
    await s.page.click('#lang-toggle');
    const isUrdu = async () => {
      assert.equal(await attr(s, 'html', 'lang'), 'ur');
      assert.equal(await attr(s, 'html', 'dir'), 'rtl');
      assert.equal(await s.page.title(), STRINGS.ur.doc_title);
      assert.equal(await text(s, 'h1'), STRINGS.ur.title);
      assert.equal(await text(s, 'label[for="cnic"]'), STRINGS.ur.label_cnic);
      assert.equal(await text(s, '#check'), STRINGS.ur.check);
      assert.equal(await text(s, '#lang-toggle'), 'English');
      assert.equal(await attr(s, '#lang-toggle', 'lang'), 'en');
      const style = await s.page.evaluate(() => {
        const st = getComputedStyle(document.body);
        return { font: st.fontFamily, direction: st.direction };
      });
      assert.ok(style.font.includes('Noto Nastaliq Urdu') && style.font.includes('Tahoma'), style.font);
      assert.equal(style.direction, 'rtl');
    };
    await isUrdu();
    await s.page.reload();
    await s.page.waitForFunction(() => /^[0-9a-f]{16}$/.test(document.getElementById('key-id').textContent));
    await isUrdu();
    assert.equal(await s.page.evaluate(() => localStorage.getItem('khabardar.lang')), 'ur');
    await check(s, { phone: fixture.found.phone[0] });
    assert.equal(await text(s, '.result .verdict'), STRINGS.ur.found(1));
    await s.page.click('#lang-toggle');
    assert.equal(await attr(s, 'html', 'dir'), 'ltr');
    assert.equal(await text(s, '.result .verdict'), STRINGS.en.found(1));
  });
  await session({ locale: 'ur-PK' }, async (s) => {
    assert.equal(await attr(s, 'html', 'lang'), 'ur');
    assert.equal(await text(s, 'h1'), STRINGS.ur.title);
    await shot(s, 'ur-start');
  });
});

test('keyboard only: Tab to each box, Enter checks, focus is visible', { skip, timeout: TIMEOUT }, async () => {
  await session({}, async (s) => {
    const { page } = s;
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      const st = getComputedStyle(e);
      return { id: e.id, visible: st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2 };
    });
    const order = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      assert.ok(f.visible, `no visible focus on #${f.id}`);
      order.push(f.id);
    }
    assert.deepEqual(order, ['lang-toggle', 'cnic', 'phone', 'imei', 'check', 'clear']);
    for (let i = 0; i < 2; i++) await page.keyboard.press('Shift+Tab');
    assert.equal((await focused()).id, 'imei');
    const imei = fixture.found.imei[0];
    await page.keyboard.type(imei);
    s.typed.push({ kind: 'imei', typed: imei });
    await page.keyboard.press('Enter');
    await page.waitForSelector('.result[data-kind="imei"]');
    assert.equal(await attr(s, '.result[data-kind="imei"]', 'data-found'), 'true');
    assert.equal((await focused()).id, 'imei', 'focus stays where it was');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    assert.equal((await focused()).id, 'lang-toggle');
    await page.keyboard.press('Enter');
    assert.equal(await attr(s, 'html', 'lang'), 'ur');
  });
});

test('a rate-limited check says when to try again', {
  skip: skip || (!process.env.KHABARDAR_LIMITED_URL && 'KHABARDAR_LIMITED_URL is not set'), timeout: TIMEOUT,
}, async () => {
  const limit = Number(process.env.KHABARDAR_LIMITED_EVALUATIONS || 4);
  await session({ base: process.env.KHABARDAR_LIMITED_URL }, async (s) => {
    const values = { cnic: fixture.absent.cnic[0], phone: fixture.absent.phone[0], imei: fixture.absent.imei[0] };
    let limited = false;
    for (let i = 0; i <= limit && !limited; i++) {
      await check(s, values);
      limited = (await attr(s, '#lookup-error', 'data-code')) === 'rate_limited';
    }
    assert.ok(limited, `no 429 after ${limit + 1} checks of 3 identifiers`);
    const en = await text(s, '#lookup-error');
    const m = /^Too many checks .* Try again after (\d\d):(\d\d) \(in about \d+ (seconds?|minutes?|hours?)\)\.$/.exec(en);
    assert.ok(m, en);
    await shot(s, 'en-rate-limited');
    await setLang(s, 'ur');
    const ur = await text(s, '#lookup-error');
    assert.ok(ur.includes(`${m[1]}:${m[2]}`) && ur.includes('دوبارہ کوشش کریں'), ur);
    await shot(s, 'ur-rate-limited');
  });
});

test('server failures are explained, and an unproven answer shows nothing', { skip, timeout: TIMEOUT }, async () => {
  await session({}, async (s) => {
    const { page } = s;
    const phone = fixture.found.phone[0];
    const expectError = async (code) => {
      await check(s, { phone });
      assert.equal(await attr(s, '#lookup-error', 'data-code'), code);
      assert.equal(await text(s, '#lookup-error'), STRINGS.en.error[code]);
      assert.equal(await page.$('.result'), null);
    };
    const json = (status, code) => (r) => r.fulfill({ status, contentType: 'application/json', body: JSON.stringify({ error: { code, message: 'test' } }) });
    const failures = [
      ['unavailable', json(503, 'unavailable')],
      ['server', (r) => r.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' })],
      ['unauthorized', json(401, 'unauthorized')],
      ['network', (r) => r.abort('connectionreset')],
      ['bad_proof', async (r) => {
        const resp = await r.fetch();
        const body = await resp.json();
        const proof = Buffer.from(body.proof, 'base64url');
        proof[40] ^= 1;
        await r.fulfill({ response: resp, json: { ...body, proof: proof.toString('base64url') } });
      }],
    ];
    for (const [code, handler] of failures) {
      await page.route('**/v1/evaluate', handler);
      await expectError(code);
      await page.unroute('**/v1/evaluate');
    }
    // A rotated key: the config is fetched again and the values blinded
    // again, once.
    let refused = 0;
    const rotated = (r) => {
      refused++;
      return json(409, 'key_rotated')(r);
    };
    await page.route('**/v1/evaluate', (r) => (refused === 0 ? rotated(r) : r.fallback()));
    await check(s, { phone });
    assert.equal(await attr(s, '.result[data-kind="phone"]', 'data-found'), 'true');
    await page.unroute('**/v1/evaluate');
    await page.route('**/v1/evaluate', rotated);
    await expectError('key_rotated');
    assert.equal(refused, 3);
  });
});

test('a fabricated listing does not count as found; unknown fields are ignored', { skip, timeout: TIMEOUT }, async () => {
  await session({}, async (s) => {
    const { page } = s;
    const edit = (change) => async (r) => {
      const resp = await r.fetch();
      const body = await resp.json();
      const listings = body.listings.map((l) => ({ ...l, ...change, future_field: { nested: [1, 2] } }));
      await r.fulfill({ response: resp, json: { ...body, listings, catalogue_version: 7 } });
    };
    const values = { cnic: fixture.found.cnic[0], phone: fixture.found.phone[0], imei: fixture.found.imei[0] };
    await page.route('**/v1/listings', edit({}));
    await check(s, values);
    for (const k of KINDS) assert.equal(await attr(s, `.result[data-kind="${k}"]`, 'data-found'), 'true');
    await page.unroute('**/v1/listings');
    await page.route('**/v1/listings', edit({ fabricated: true }));
    await check(s, values);
    for (const k of KINDS) assert.equal(await attr(s, `.result[data-kind="${k}"]`, 'data-found'), 'false');
  });
});
