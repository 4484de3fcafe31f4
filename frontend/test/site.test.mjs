// Browser tests of the website against a real "khabardar serve", run by the
// Go harness (go test ./e2e -run TestSite), which sets:
//
//   KHABARDAR_URL                 a server with the fixture's listing ingested
//   KHABARDAR_LIMITED_URL         a server allowing KHABARDAR_LIMITED_EVALUATIONS evaluations an hour
//   KHABARDAR_EMPTY_URL           a server with no listings at all
//   KHABARDAR_FIXTURE             {"listing", "found": {kind: [typed]}, "absent": {kind: [typed]}}
//   KHABARDAR_SCREENSHOTS         where to save screenshots of the main states
//   KHABARDAR_CHROMIUM            the browser (default /usr/bin/chromium)
//   KHABARDAR_VERIFY_REPORT       optional: an HTML report of "khabardar verify", opened from disk
//
// KHABARDAR_FIXTURE may also hold "fabricated": {"listing", "values": {kind:
// [typed]}}, a listing flagged fabricated holding only those values; without
// it, the tests make one by editing the API's answers in the browser.
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
import { pathToFileURL } from 'node:url';
import { parse, REASONS, KINDS } from '../src/identifier.js';
import { STRINGS, formatDate, formatMonth, groupDigits } from '../src/i18n.js';

const BASE = process.env.KHABARDAR_URL;
const skip = BASE ? false : 'KHABARDAR_URL is not set: these run from the Go harness, go test ./e2e -run TestSite';
const TIMEOUT = 120_000;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

const fixture = BASE ? JSON.parse(readFileSync(process.env.KHABARDAR_FIXTURE, 'utf8')) : null;
const shotsDir = process.env.KHABARDAR_SCREENSHOTS || '';
if (shotsDir) mkdirSync(shotsDir, { recursive: true });

const REPORT = process.env.KHABARDAR_VERIFY_REPORT || '';
const { chromium } = BASE || REPORT ? await import('playwright-core') : {};

// ---- sessions ----

// keyShown is when the citizen page is ready: it shows the key's id.
const keyShown = () => /^[0-9a-f]{16}$/.test(document.getElementById('key-id').textContent);

// session runs fn with a page (path, ready when ready() holds in it, or
// ready.fn(ready.arg)) in a
// Chromium with a fresh profile, recording everything the page sends and
// receives; when fn succeeds it checks that none of it holds an identifier
// typed during the session, and that nothing left the origin or set a cookie.
async function session({ base = BASE, locale = 'en-US', path = '/', ready = keyShown, setup = null } = {}, fn) {
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
    if (setup) await setup(page);
    await page.goto(base + path);
    if (typeof ready === 'function') await page.waitForFunction(ready);
    else await page.waitForFunction(ready.fn, ready.arg);
    await fn(s);
    await assertPrivate(s);
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// check checks values (kind → value) and waits for the outcome. One value
// goes the easy way: its kind chosen, typed in the one box, Check pressed.
// Several (or any, with together) go through "check more than one number
// together": that panel opened, its three boxes filled (the others emptied)
// and its button pressed. An empty values presses the one box's Check with
// the box emptied (or, with together, the panel's). It returns the requests
// the check made.
async function check(s, values, { together = Object.keys(values).length > 1 } = {}) {
  const { page } = s;
  // Remembered for the privacy check if it is an identifier of any kind.
  const remember = (k, v) => {
    const id = parse(k, v).canonical ? parse(k, v) : parse('', v);
    if (id.canonical) s.typed.push({ kind: id.kind, typed: v });
  };
  let button = '#check';
  if (together) {
    if (!(await page.$eval('#several', (d) => d.open))) await page.click('#several summary');
    for (const k of KINDS) {
      await page.fill('#' + k, values[k] || '');
      remember(k, values[k] || '');
    }
    button = '#check-several';
  } else {
    const [kind] = Object.keys(values);
    if (kind) await page.check('#kind-' + kind);
    await page.fill('#value', kind ? values[kind] : '');
    if (kind) remember(kind, values[kind]);
  }
  const before = s.requests.length;
  await page.click(button);
  await page.waitForFunction(() => {
    const r = document.getElementById('results');
    return r.getAttribute('aria-busy') === 'false' && (r.querySelector('.result, #lookup-error, #no-listings') ||
      !document.getElementById('form-error').hidden || !document.getElementById('several-error').hidden);
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

test('as it opens: the key of /v1/config, the linkage said beside the form, several together a deliberate choice', { skip, timeout: TIMEOUT }, async () => {
  const cfg = await (await fetch(BASE + '/v1/config')).json();
  const sum = createHash('sha256').update(Buffer.from(cfg.public_key, 'base64url')).digest('hex');
  assert.equal(cfg.fingerprint, sum.match(/.{4}/g).join(' '));
  await session({}, async (s) => {
    const { page } = s;
    assert.equal(await text(s, '#key-id'), cfg.key_id);
    assert.equal(await text(s, '#key-fingerprint'), cfg.fingerprint);
    for (const lang of ['en', 'ur']) {
      await setLang(s, lang);
      const t = STRINGS[lang];
      // The note is in the form, before the box, and describes Check.
      assert.equal(await text(s, '#check-form #linkage'), t.linkage);
      assert.ok(await page.$eval('#linkage', (n) => n.compareDocumentPosition(document.getElementById('value')) & Node.DOCUMENT_POSITION_FOLLOWING));
      assert.equal(await attr(s, '#check', 'aria-describedby'), 'linkage');
      // One box by default; the three boxes are behind a closed panel
      // whose button carries the warning.
      assert.ok(await page.isVisible('#value'));
      assert.ok(!(await page.$eval('#several', (d) => d.open)), 'the panel starts closed');
      assert.ok(await page.isHidden('#cnic') && await page.isHidden('#check-several'));
      await page.click('#several summary');
      assert.equal(await text(s, '#several-warning'), t.several_warning);
      assert.equal(await attr(s, '#check-several', 'aria-describedby'), 'several-warning');
      assert.ok(await page.isVisible('#cnic') && await page.isVisible('#several-warning'));
      await shot(s, lang + '-several');
      await page.click('#several summary');
    }
  });
});

// rounds is the first value of each kind checked alone, the easy way (one
// box), then every value in checks of up to one value of each kind together.
const rounds = (set) => [...KINDS.filter((k) => (set[k] || []).length).map((k) => ({ [k]: set[k][0] })),
  ...Array.from({ length: Math.max(...KINDS.map((k) => (set[k] || []).length)) },
    (_, i) => Object.fromEntries(KINDS.filter((k) => (set[k] || [])[i]).map((k) => [k, set[k][i]])))];

test('found and not found, for each kind', { skip, timeout: TIMEOUT }, async () => {
  const l = fixture.listing;
  await session({}, async (s) => {
    for (const [i, values] of rounds(fixture.found).entries()) {
      const reqs = await check(s, values);
      const r = routes(reqs);
      assert.equal(r.filter((x) => x === 'POST /v1/evaluate').length, 1, 'one evaluation per check');
      const evaluation = JSON.parse(reqs.find((x) => new URL(x.url).pathname === '/v1/evaluate').postData);
      assert.equal(evaluation.blinded.length, Object.keys(values).length, 'as many blinded values as values checked');
      assert.equal(r[r.length - 1], 'GET /v1/listings', 'the whole catalogue, last');
      assert.ok(r.every((x) => !x.startsWith('GET /v1/listings/')), 'never one listing by id');
      // The listing's details and the advice: on the first check and on
      // those of several values; the page draws them alike for one.
      const detailed = i === 0 || Object.keys(values).length > 1;
      for (const kind of Object.keys(values)) {
        const sel = `.result[data-kind="${kind}"]`;
        assert.equal(await attr(s, sel, 'data-found'), 'true', `found ${kind} #${i + 1}`);
        if (!detailed) continue;
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
      assert.ok(await s.page.$('#advice [data-step="report_1799"]'));
      for (const c of detailed ? l.categories : []) {
        if (c.category !== 'other') assert.ok(await s.page.$(`#advice [data-category="${c.category}"] li`), `advice for ${c.category}`);
      }
      if (detailed) assert.ok(await s.page.$('#advice [data-step="refuse_calls"]'));
      if (i === 0) {
        await shot(s, 'en-found');
        await setLang(s, 'ur');
        assert.equal(await text(s, `.result[data-kind="${Object.keys(values)[0]}"] .verdict`), STRINGS.ur.found(1));
        await shot(s, 'ur-found');
        await setLang(s, 'en');
      }
      assert.equal(await text(s, '#summary'), STRINGS.en.checked(Object.keys(values).length, Object.keys(values).length));
    }

    for (const [i, values] of rounds(fixture.absent).entries()) {
      await check(s, values);
      for (const kind of Object.keys(values)) {
        const sel = `.result[data-kind="${kind}"]`;
        assert.equal(await attr(s, sel, 'data-found'), 'false', `absent ${kind} #${i + 1}`);
        assert.equal(await text(s, sel + ' .verdict'), STRINGS.en.not_found);
        // What it was checked against: the one listing, added today.
        assert.equal(await text(s, sel + ' .checked-against'), STRINGS.en.not_found_in(1, formatDate('en', fixture.listing.added)));
        assert.ok((await text(s, sel)).includes(STRINGS.en.not_found_text));
      }
      assert.equal(await s.page.$('#advice'), null);
      assert.equal(await attr(s, '#no-listings-notice', 'hidden'), '', 'the no-listings notice on a server with listings');
      if (i === 0) {
        await shot(s, 'en-not-found');
        await setLang(s, 'ur');
        const kind = Object.keys(values)[0];
        assert.equal(await text(s, `.result[data-kind="${kind}"] .checked-against`), STRINGS.ur.not_found_in(1, formatDate('ur', fixture.listing.added)));
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
      for (const together of lang === 'en' ? [false, true] : [false]) {
        // The one box, then (in English) the box of the kind among the three.
        for (const c of cases.values()) {
          assert.deepEqual(routes(await check(s, { [c.kind]: c.input }, { together })), [], 'nothing is sent for an invalid entry');
          const box = together ? c.kind : 'value';
          const err = `#${box}-error`;
          assert.equal(await attr(s, err, 'data-reason'), c.reason);
          const msg = STRINGS[lang].reason[c.reason];
          assert.ok((await text(s, err)).startsWith(typeof msg === 'object' ? msg[c.kind] : msg), `${lang} message for ${c.reason}`);
          assert.equal(await attr(s, '#' + box, 'aria-invalid'), 'true');
          assert.equal(await text(s, together ? '#several-error' : '#form-error'), STRINGS[lang].fix_errors(1));
          assert.equal(await s.page.evaluate(() => document.activeElement.id), box, 'focus moves to the entry to correct');
        }
      }
      await check(s, { cnic: '35202-1234567-X', phone: '03381234567', imei: '352099001761482' });
      assert.equal(await text(s, '#several-error'), STRINGS[lang].fix_errors(3));
      assert.equal(await s.page.evaluate(() => document.activeElement.id), 'cnic');
      await shot(s, lang + '-invalid');
    }
    // A number of another kind gets a hint to choose that kind (in the one
    // box) or move it (among the three), and is not sent.
    await setLang(s, 'en');
    assert.deepEqual(routes(await check(s, { cnic: fixture.absent.phone[0] })), []);
    assert.ok((await text(s, '#value-error')).endsWith(STRINGS.en.looks_like_kind.phone));
    assert.deepEqual(routes(await check(s, { cnic: fixture.absent.phone[0] }, { together: true })), []);
    assert.ok((await text(s, '#cnic-error')).endsWith(STRINGS.en.looks_like.phone));
    // Choosing another kind forgets what was said of the one before.
    assert.deepEqual(routes(await check(s, { imei: fixture.absent.phone[0] })), []);
    assert.ok(!(await s.page.isHidden('#value-error')));
    await s.page.check('#kind-phone');
    assert.ok(await s.page.isHidden('#value-error'));
    assert.equal(await attr(s, '#value', 'aria-invalid'), null);
    assert.equal(await text(s, 'label[for="value"]'), STRINGS.en.label_phone);
    assert.equal(await text(s, '#value-hint'), STRINGS.en.hint_phone);
    assert.equal(await attr(s, '#value', 'inputmode'), 'tel');
    // Nothing typed.
    await check(s, {});
    assert.equal(await text(s, '#form-error'), STRINGS.en.need_value.phone);
    await check(s, {}, { together: true });
    assert.equal(await text(s, '#several-error'), STRINGS.en.need_one);
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
      assert.equal(await text(s, 'label[for="value"]'), STRINGS.ur.label_cnic);
      assert.equal(await text(s, 'label[for="cnic"]'), STRINGS.ur.label_cnic);
      assert.equal(await text(s, '#linkage'), STRINGS.ur.linkage);
      assert.equal(await text(s, '#several summary'), STRINGS.ur.several_summary);
      assert.equal(await text(s, 'label:has(#kind-phone)'), STRINGS.ur.choose_phone);
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
    await s.page.waitForFunction(keyShown);
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
    // Tab, Shift+Tab: the id focused, which must show its focus.
    const press = async (key) => {
      await page.keyboard.press(key);
      const f = await focused();
      assert.ok(f.visible, `no visible focus on #${f.id || (await page.evaluate(() => document.activeElement.tagName))}`);
      return f.id || (await page.evaluate(() => document.activeElement.tagName.toLowerCase()));
    };
    const order = [];
    for (let i = 0; i < 6; i++) order.push(await press('Tab'));
    // The kinds are one stop, the chosen one; "together" is a closed panel.
    assert.deepEqual(order, ['lang-toggle', 'kind-cnic', 'value', 'check', 'clear', 'summary']);
    for (let i = 0; i < 4; i++) await press('Shift+Tab');
    assert.equal((await focused()).id, 'kind-cnic');
    // Arrow keys choose the kind.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal((await focused()).id, 'kind-imei');
    assert.equal(await text(s, 'label[for="value"]'), STRINGS.en.label_imei);
    assert.equal(await press('Tab'), 'value');
    const imei = fixture.found.imei[0];
    await page.keyboard.type(imei);
    s.typed.push({ kind: 'imei', typed: imei });
    await page.keyboard.press('Enter');
    await page.waitForSelector('.result[data-kind="imei"]');
    assert.equal(await attr(s, '.result[data-kind="imei"]', 'data-found'), 'true');
    assert.equal((await focused()).id, 'value', 'focus stays where it was');
    // Several together: the panel opens from the keyboard, its first box next.
    for (let i = 0; i < 3; i++) await press('Tab');
    assert.equal((await focused()).id, '');
    await page.keyboard.press('Enter');
    assert.ok(await page.$eval('#several', (d) => d.open), 'Enter opens the panel');
    assert.equal(await press('Tab'), 'cnic');
    const phone = fixture.found.phone[0];
    assert.equal(await press('Tab'), 'phone');
    await page.keyboard.type(phone);
    s.typed.push({ kind: 'phone', typed: phone });
    for (const k of KINDS.slice(KINDS.indexOf('phone') + 1)) assert.equal(await press('Tab'), k);
    assert.equal(await press('Tab'), 'check-several');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.result[data-kind="phone"]');
    assert.equal(await attr(s, '.result[data-kind="phone"]', 'data-found'), 'true');
    assert.equal((await focused()).id, 'check-several', 'focus stays where it was');
    for (let i = 0; i < KINDS.length + 4; i++) await press('Shift+Tab'); // the kinds' boxes, the summary, clear, check
    assert.equal((await focused()).id, 'value');
    await press('Shift+Tab');
    await press('Shift+Tab');
    assert.equal((await focused()).id, 'lang-toggle');
    await page.keyboard.press('Enter');
    assert.equal(await attr(s, 'html', 'lang'), 'ur');
  });
});

test('no listings loaded: no verdict, a clear state before and after a check, in English and Urdu', {
  skip: skip || (!process.env.KHABARDAR_EMPTY_URL && 'KHABARDAR_EMPTY_URL is not set'), timeout: TIMEOUT,
}, async () => {
  await session({ base: process.env.KHABARDAR_EMPTY_URL }, async (s) => {
    // Said as the page opens, before anyone types.
    await s.page.waitForSelector('#no-listings-notice:not([hidden])');
    assert.equal(await text(s, '#no-listings-notice'), STRINGS.en.no_listings_title + ' ' + STRINGS.en.no_listings);
    for (const kind of KINDS) {
      await check(s, { [kind]: fixture.absent[kind][0] });
      assert.equal(await text(s, '#no-listings h2'), STRINGS.en.no_listings_title);
      assert.equal(await text(s, '#no-listings p'), STRINGS.en.no_listings);
      assert.equal(await s.page.$('.result'), null, 'a verdict from an empty catalogue');
      assert.ok(!(await text(s, '#results')).includes(STRINGS.en.not_found), '"not found" from an empty catalogue');
    }
    await check(s, { cnic: fixture.absent.cnic[0], phone: fixture.absent.phone[0] });
    assert.equal(await s.page.$('.result'), null, 'a verdict for values checked together');
    await shot(s, 'en-no-listings');
    await setLang(s, 'ur');
    assert.equal(await text(s, '#no-listings h2'), STRINGS.ur.no_listings_title);
    assert.equal(await text(s, '#no-listings p'), STRINGS.ur.no_listings);
    assert.equal(await text(s, '#no-listings-notice'), STRINGS.ur.no_listings_title + ' ' + STRINGS.ur.no_listings);
    await shot(s, 'ur-no-listings');
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

// configSettled is when the citizen page has its answer to /v1/config,
// whatever it is.
// A function with its argument, not a string: the page's CSP forbids eval,
// which Playwright would need to run a string predicate.
const configSettled = {
  fn: (loading) => !loading.includes(document.getElementById('key-id').textContent),
  arg: [STRINGS.en.key_loading, STRINGS.ur.key_loading],
};

test('a server asking for more than 16 bucket bits is refused, in plain words, before anything is sent', { skip, timeout: TIMEOUT }, async () => {
  // As a compromised or coerced server would: its real key and answers,
  // and a config asking for 32-bit prefixes, which would name the person.
  const widen = async (r) => {
    const resp = await r.fetch();
    await r.fulfill({ response: resp, json: { ...(await resp.json()), bucket_bits: 32 } });
  };
  await session({ setup: (page) => page.route('**/v1/config', widen), ready: configSettled }, async (s) => {
    // Said as soon as the page has the config, before anyone types.
    assert.equal(await attr(s, '#lookup-error', 'data-code'), 'bucket_bits');
    assert.equal(await text(s, '#lookup-error'), STRINGS.en.error.bucket_bits(32, 16));
    const phone = fixture.found.phone[0];
    const asked = routes(await check(s, { phone }));
    assert.deepEqual(asked.filter((r) => r !== 'GET /v1/config'), [], 'nothing but the config is asked');
    assert.deepEqual(routes(s.requests).filter((r) => r !== 'GET /v1/config'), [], 'nothing but the config is ever asked');
    assert.equal(await attr(s, '#lookup-error', 'data-code'), 'bucket_bits');
    assert.equal(await text(s, '#lookup-error'), STRINGS.en.error.bucket_bits(32, 16));
    assert.equal(await s.page.$('.result'), null);
    await shot(s, 'en-refused');
    await setLang(s, 'ur');
    assert.equal(await text(s, '#lookup-error'), STRINGS.ur.error.bucket_bits(32, 16));
    await shot(s, 'ur-refused');
    // Together, or at 20 bits: the same.
    await setLang(s, 'en');
    const all = { cnic: fixture.found.cnic[0], phone, imei: fixture.found.imei[0] };
    assert.deepEqual(routes(await check(s, all)), ['GET /v1/config']);
    assert.equal(await attr(s, '#lookup-error', 'data-code'), 'bucket_bits');
    await s.page.unroute('**/v1/config');
    await s.page.route('**/v1/config', async (r) => {
      const resp = await r.fetch();
      await r.fulfill({ response: resp, json: { ...(await resp.json()), bucket_bits: 20 } });
    });
    assert.deepEqual(routes(await check(s, { phone })), ['GET /v1/config']);
    assert.equal(await text(s, '#lookup-error'), STRINGS.en.error.bucket_bits(20, 16));
    assert.deepEqual(routes(s.requests).filter((r) => r !== 'GET /v1/config'), [], 'nothing but the config is ever asked');
  });
});

test('a fabricated listing does not count as found; unknown fields are ignored', { skip, timeout: TIMEOUT }, async () => {
  const l = fixture.listing;
  await session({}, async (s) => {
    const { page } = s;
    const edit = (change) => async (r) => {
      const resp = await r.fetch();
      const body = await resp.json();
      const listings = body.listings.map((x) => ({ ...x, ...change, future_field: { nested: [1, 2] } }));
      await r.fulfill({ response: resp, json: { ...body, listings, catalogue_version: 7 } });
    };
    const values = Object.fromEntries(KINDS.map((k) => [k, fixture.found[k][0]]));
    await page.route('**/v1/listings', edit({}));
    await check(s, values);
    for (const k of KINDS) assert.equal(await attr(s, `.result[data-kind="${k}"]`, 'data-found'), 'true');
    await page.unroute('**/v1/listings');
    await page.route('**/v1/listings', edit({ fabricated: true, verified: false }));
    await check(s, values);
    for (const k of KINDS) {
      const sel = `.result[data-kind="${k}"]`;
      assert.equal(await attr(s, sel, 'data-found'), 'false');
      assert.equal(await text(s, sel + ' .verdict'), STRINGS.en.not_found_genuine);
      const n = await page.$$eval(sel + ' .fabricated-listings .listing', (ls) => ls.length);
      assert.equal(await text(s, sel + ' .fabricated-listings h3'), STRINGS.en.fabricated_title(n));
      assert.equal(await text(s, `${sel} .fabricated-listings .listing[data-listing-id="${l.id}"] .flag-fabricated`), STRINGS.en.fabricated_badge);
    }
    assert.equal(await text(s, '#summary'), STRINGS.en.checked(0, KINDS.length));
    assert.equal(await page.$('#advice'), null, 'no advice for a fabricated listing alone');
  });
});

// withFabricated makes the browser see a listing flagged fabricated and
// sensitive, holding every identifier of the fixture's listing as well,
// by editing the API's answers. It returns the fabricated listing's id.
async function withFabricated(page) {
  const fake = 'fabricated-copy';
  await page.route('**/v1/buckets/*', async (r) => {
    const resp = await r.fetch();
    const body = await resp.json();
    const entries = body.entries.map((e) => (e.listings.includes(fixture.listing.id) ? { ...e, listings: [...e.listings, fake].sort() } : e));
    await r.fulfill({ response: resp, json: { ...body, entries } });
  });
  await page.route('**/v1/listings', async (r) => {
    const resp = await r.fetch();
    const body = await resp.json();
    const copy = { ...fixture.listing, id: fake, title: 'A made-up copy of ' + fixture.listing.title, verified: false, fabricated: true, sensitive: true };
    await r.fulfill({ response: resp, json: { ...body, listings: [...body.listings, copy] } });
  });
  return fake;
}

test('a fabricated listing beside a real one is shown as such and not counted', { skip, timeout: TIMEOUT }, async () => {
  const l = fixture.listing;
  await session({}, async (s) => {
    const { page } = s;
    let fake;
    let values;
    let found = 'true';
    if (fixture.fabricated) {
      // The harness ingested a fabricated listing: only its own values.
      fake = fixture.fabricated.listing.id;
      values = Object.fromEntries(KINDS.filter((k) => (fixture.fabricated.values[k] || []).length).map((k) => [k, fixture.fabricated.values[k][0]]));
      found = 'false';
    } else {
      fake = await withFabricated(page);
      values = { cnic: fixture.found.cnic[0], phone: fixture.found.phone[0], imei: fixture.found.imei[0] };
    }
    await check(s, values);
    for (const lang of ['en', 'ur']) {
      await setLang(s, lang);
      const t = STRINGS[lang];
      for (const k of Object.keys(values)) {
        const sel = `.result[data-kind="${k}"]`;
        assert.equal(await attr(s, sel, 'data-found'), found, `${k}: found only in the real listing`);
        assert.equal(await text(s, sel + ' .verdict'), found === 'true' ? t.found(1) : t.not_found_genuine);
        if (found === 'true') assert.ok(await page.$(`${sel} > .listing[data-listing-id="${l.id}"]`), 'the real listing is shown');
        const fab = `${sel} .fabricated-listings .listing.fabricated[data-listing-id="${fake}"]`;
        assert.equal(await text(s, fab + ' .flag-fabricated'), t.fabricated_badge);
        if (!fixture.fabricated) assert.equal(await text(s, fab + ' .flag-sensitive'), t.sensitive_note);
        assert.equal(await page.$(`${sel} > .listing[data-listing-id="${fake}"]`), null, 'the fabricated listing is not among the found ones');
      }
      assert.equal(await text(s, '#summary'), t.checked(found === 'true' ? Object.keys(values).length : 0, Object.keys(values).length));
      await shot(s, lang + '-fabricated');
    }
  });
});

// ---- the statistics page ----

const statsShown = () => document.querySelector('#stats-summary, #stats-error') !== null;
const prices = (l) => l.categories.filter((c) => c.price_pkr > 0);

test('the statistics page draws the fixture’s numbers, in English and Urdu', { skip, timeout: TIMEOUT }, async () => {
  const l = fixture.listing;
  const month = l.first_seen.slice(0, 7);
  await session({ path: '/stats', ready: statsShown }, async (s) => {
    const { page } = s;
    assert.deepEqual(routes(s.requests), ['GET /v1/stats'], 'the page asks the API for /v1/stats alone');
    for (const lang of ['en', 'ur']) {
      await setLang(s, lang);
      const t = STRINGS[lang];
      assert.equal(await page.title(), t.stats_doc_title);
      assert.equal(await text(s, 'h1'), t.stats_title);
      assert.equal(await text(s, '#stats-summary'), t.stats_summary(KINDS.reduce((n, k) => n + l.counts[k], 0), 1));

      // Each chart is an image named by its title and described by its
      // desc, which says the numbers; a table under it says them too.
      for (const id of ['chart-kinds', 'chart-prices', 'chart-months']) {
        const a = await page.$eval('#' + id, (svg) => ({
          role: svg.getAttribute('role'),
          named: svg.getAttribute('aria-labelledby').split(' ').map((i) => document.getElementById(i).tagName),
          title: svg.querySelector('title').textContent,
          desc: svg.querySelector('desc').textContent,
        }));
        assert.deepEqual([a.role, a.named], ['img', ['title', 'desc']], id);
        assert.equal(a.title, t[id.slice(6) + '_title']);
        assert.ok(a.desc.length > 20, id + ' has no description');
      }
      const kindsDesc = await page.$eval('#chart-kinds desc', (d) => d.textContent);
      for (const k of KINDS) {
        const g = `#chart-kinds g[data-key="${k}"]`;
        assert.equal(await attr(s, g, 'data-value'), String(l.counts[k]));
        assert.equal(await text(s, g + ' .label'), t.kind_name[k]);
        assert.equal(await text(s, g + ' .value'), groupDigits(l.counts[k]));
        assert.equal(await text(s, `#table-kinds tr[data-kind="${k}"] td`), groupDigits(l.counts[k]));
        assert.ok(kindsDesc.includes(`${t.kind_name[k]}: ${groupDigits(l.counts[k])}`), 'the description says ' + k);
      }
      // Bars are as long as their numbers.
      const widths = await page.$$eval('#chart-kinds .bar', (rs) => rs.map((r) => r.getBBox().width));
      const counts = KINDS.map((k) => l.counts[k]);
      const max = Math.max(...counts);
      widths.forEach((w, i) => assert.ok(Math.abs(w / Math.max(...widths) - counts[i] / max) < 0.01, `bar ${KINDS[i]}: ${w}`));
      // Right to left in Urdu: the label on the right of its bar.
      const side = await page.$eval('#chart-kinds g[data-key="phone"]', (g) => {
        const label = g.querySelector('.label').getBoundingClientRect();
        const bar = g.querySelector('.bar').getBoundingClientRect();
        return { label: [label.left, label.right], bar: [bar.left, bar.right] };
      });
      if (lang === 'en') assert.ok(side.label[1] <= side.bar[0], 'English: the label is left of the bar ' + JSON.stringify(side));
      else assert.ok(side.bar[1] <= side.label[0], 'Urdu: the label is right of the bar ' + JSON.stringify(side));

      for (const c of prices(l)) {
        const g = `#chart-prices g[data-key="${c.category}"]`;
        for (const a of ['data-min', 'data-median', 'data-max']) assert.equal(await attr(s, g, a), String(c.price_pkr), `${c.category} ${a}`);
        assert.equal(await text(s, g + ' .label'), t.category[c.category]);
        const cells = await page.$$eval(`#table-prices tr[data-category="${c.category}"] td`, (tds) => tds.map((td) => td.textContent));
        assert.deepEqual(cells, [t.price(c.price_pkr), t.price(c.price_pkr), t.price(c.price_pkr)]);
        assert.equal(await text(s, `#table-categories tr[data-category="${c.category}"] td`), '1');
      }
      assert.equal(await page.$$eval('#chart-prices g[data-key]', (gs) => gs.length), prices(l).length);

      assert.equal(await attr(s, `#chart-months rect[data-month="${month}"]`, 'data-value'), '1');
      assert.equal(await text(s, `#table-months tr[data-month="${month}"] th`), formatMonth(lang, month));
      assert.equal(await text(s, `#table-months tr[data-month="${month}"] td`), '1');

      const row = `#table-listings tr[data-listing-id="${l.id}"]`;
      assert.equal(await text(s, row + ' th'), l.title);
      assert.equal(await text(s, row + ' [data-flag="verified"]'), t.flag.verified);
      assert.equal(await page.$(row + ' [data-flag="fabricated"]'), null);
      await shot(s, 'stats-' + lang);
    }
    // Each page links to the other.
    await setLang(s, 'en');
    await page.click('#back-link');
    await page.waitForFunction(keyShown);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.click('#stats-link');
    await page.waitForFunction(statsShown);
    assert.equal(new URL(page.url()).pathname, '/stats');
    await Promise.all(s.pending);
  });
});

test('the statistics page: fabricated listings apart, failures explained', { skip, timeout: TIMEOUT }, async () => {
  const l = fixture.listing;
  const total = KINDS.reduce((n, k) => n + l.counts[k], 0);
  await session({ path: '/stats', ready: statsShown }, async (s) => {
    const { page } = s;
    const zero = { cnic: 0, phone: 0, imei: 0, total: 0 };
    const json = (body, status = 200, headers = {}) => (r) => r.fulfill({ status, headers, contentType: 'application/json', body: JSON.stringify(body) });
    const cases = [
      {
        name: 'a fabricated listing',
        handler: async (r) => {
          const resp = await r.fetch();
          const body = await resp.json();
          const fake = { cnic: 0, phone: 1200, imei: 0, total: 1200 };
          body.listings.total++;
          body.listings.fabricated++;
          body.fabricated_exposures = { ...fake, total: body.fabricated_exposures.total + 1200 };
          body.by_listing.unshift({ id: 'aaa-fake', title: 'Fake SIM dump', first_seen: '2025-03-02', status: 'active', verified: false, fabricated: true, sensitive: false, exposures: fake });
          await r.fulfill({ response: resp, json: body });
        },
        expect: async () => {
          assert.equal(await text(s, '#stats-summary'), STRINGS.en.stats_summary(total, 1), 'the counted figures are unchanged');
          assert.match(await text(s, '#stats-fabricated'), /^Not counted: \d+ listings? shown to be fabricated, with [\d,]+ entr(y|ies)\.$/);
          const row = '#table-listings tr[data-listing-id="aaa-fake"]';
          assert.equal(await attr(s, row, 'class'), 'fabricated');
          assert.equal(await text(s, row + ' [data-flag="fabricated"]'), STRINGS.en.flag.fabricated);
          assert.equal(await attr(s, `#chart-kinds g[data-key="phone"]`, 'data-value'), String(l.counts.phone));
        },
      },
      {
        name: 'no listings yet',
        handler: json({ exposures: zero, fabricated_exposures: zero, listings: { total: 0, counted: 0, verified: 0, fabricated: 0, sensitive: 0 }, by_listing: [], by_category: [], first_seen_by_month: {} }),
        expect: async () => {
          assert.equal(await text(s, '#stats-empty'), STRINGS.en.stats_empty);
          assert.equal(await page.$('svg.chart'), null);
        },
      },
      {
        name: 'rate limited',
        handler: json({ error: { code: 'rate_limited', message: 'x' } }, 429, { 'Retry-After': '120' }),
        expect: async () => {
          assert.equal(await attr(s, '#stats-error', 'data-code'), 'rate_limited');
          assert.match(await text(s, '#stats-error'), /^Too many requests .* Try again after \d\d:\d\d \(in about 2 minutes\)\.$/);
        },
      },
      { name: 'a server error', handler: json({ error: { code: 'internal', message: 'x' } }, 500), code: 'failed' },
      { name: 'not the API’s shape', handler: json({ listings: [] }), code: 'failed' },
      { name: 'no network', handler: (r) => r.abort('connectionreset'), code: 'failed' },
    ];
    for (const c of cases) {
      await page.route('**/v1/stats', c.handler);
      await page.reload();
      await page.waitForFunction(statsShown);
      if (c.code) {
        assert.equal(await attr(s, '#stats-error', 'data-code'), c.code, c.name);
        assert.equal(await text(s, '#stats-error'), STRINGS.en.stats_failed, c.name);
      } else {
        await c.expect();
      }
      await page.unroute('**/v1/stats');
    }
    await setLang(s, 'ur');
    await page.route('**/v1/stats', json({}, 503));
    await page.reload();
    await page.waitForFunction(statsShown);
    assert.equal(await text(s, '#stats-error'), STRINGS.ur.stats_failed);
  });
});

// ---- the verify report ----

test('the verify report draws its chart without the network', {
  skip: REPORT ? false : 'KHABARDAR_VERIFY_REPORT is not set', timeout: TIMEOUT,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'khabardar-profile-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.KHABARDAR_CHROMIUM || '/usr/bin/chromium',
    args: ARGS, viewport: { width: 360, height: 740 },
  });
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    const url = pathToFileURL(REPORT).href;
    const requests = [];
    const errors = [];
    ctx.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(url, { waitUntil: 'networkidle' });
    const svg = await page.$eval('svg', (e) => {
      const r = e.getBoundingClientRect();
      return { w: r.width, h: r.height, marks: e.querySelectorAll('rect, path, circle, line, polyline, polygon').length };
    });
    assert.ok(svg.w > 0 && svg.h > 0 && svg.marks > 0, 'the report has no visible chart: ' + JSON.stringify(svg));
    assert.deepEqual(requests.filter((u) => u !== url && !u.startsWith('data:')), [], 'the report loads something');
    assert.deepEqual(errors, []);
    if (shotsDir) await page.screenshot({ path: join(shotsDir, 'verify-report.png'), fullPage: true });
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alerts: after a check, a code by SMS, then watching what was checked, in English and Urdu', {
  skip: skip || (process.env.KHABARDAR_SMS_OUTBOX ? false : 'KHABARDAR_SMS_OUTBOX is not set'), timeout: TIMEOUT,
}, async () => {
  const outbox = async () => (await fetch(process.env.KHABARDAR_SMS_OUTBOX)).json();
  for (const [lang, number] of [['en', '0345-7654321'], ['ur', '0345-7654322']]) {
    await session({}, async (s) => {
      const { page } = s;
      assert.equal(await page.$eval('#alerts', (e) => e.hidden), true, 'no offer before a check');
      await setLang(s, lang);
      await check(s, { cnic: fixture.found.cnic[0] });
      assert.equal(await page.$eval('#alerts', (e) => e.hidden), false, 'the offer after a check');
      assert.equal(await text(s, '#alerts-title'), STRINGS[lang].alerts_title);
      const before = (await outbox()).length;
      await page.fill('#alert-number', 'not a number');
      await page.click('#alert-send');
      await page.waitForFunction(() => document.getElementById('alert-status').dataset.state === 'error');
      assert.equal(await text(s, '#alert-status'), STRINGS[lang].alert_error.invalid);
      await page.fill('#alert-number', number);
      await page.click('#alert-send');
      await page.waitForFunction(() => document.getElementById('alert-status').dataset.state === 'code');
      const msgs = await outbox();
      assert.equal(msgs.length, before + 1, 'one SMS with the code');
      const sms = msgs[msgs.length - 1];
      assert.equal(sms.to, '+92' + number.replace(/\D/g, '').slice(1));
      const code = /\b(\d{6})\b/.exec(sms.text)[1];
      const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
      await page.fill('#alert-code', wrong);
      await page.click('#alert-confirm');
      await page.waitForFunction(() => document.getElementById('alert-status').dataset.state === 'error');
      assert.equal(await text(s, '#alert-status'), STRINGS[lang].alert_error.wrong_code);
      await page.fill('#alert-code', code);
      await page.click('#alert-confirm');
      await page.waitForFunction(() => document.getElementById('alert-status').dataset.state === 'done');
      assert.equal(await text(s, '#alert-status'), STRINGS[lang].alert_done(1));
      // What went to the server: the number (to send to) and the check's
      // VOPRF output, never the CNIC in any form.
      const sub = s.requests.find((r) => new URL(r.url).pathname.endsWith('/v1/alerts/subscribe'));
      const body = JSON.parse(sub.postData);
      assert.deepEqual(Object.keys(body).sort(), ['code', 'lang', 'number', 'watches']);
      assert.equal(body.watches.length, 1);
      assert.deepEqual(Object.keys(body.watches[0]).sort(), ['kind', 'prefix', 'suffix']);
      assert.equal(body.watches[0].kind, 'cnic');
      await shot(s, lang + '-alerts-on');
    });
  }
});
