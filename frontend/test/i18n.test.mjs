// Both languages say everything, and the advice covers every category.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STRINGS, LANGS, pickLang, formatDate, formatRetry, groupDigits } from '../src/i18n.js';
import { REASONS, KINDS } from '../src/identifier.js';
import { adviceFor, CATEGORIES } from '../src/advice.js';

// shape describes a value's keys and types, not its text.
function shape(v) {
  if (typeof v !== 'object' || v === null) return typeof v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape(v[k])]));
}

test('English and Urdu have the same strings', () => {
  assert.deepEqual(LANGS, Object.keys(STRINGS));
  assert.deepEqual(shape(STRINGS.ur), shape(STRINGS.en));
  for (const lang of LANGS) {
    const empty = [];
    const walk = (v, path) => {
      if (typeof v === 'string' && v.trim() === '') empty.push(path);
      if (typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path + '.' + k);
    };
    walk(STRINGS[lang], lang);
    assert.deepEqual(empty, []);
  }
});

test('every reason, category, source kind and status has words', () => {
  // listing.go: SourceKinds, Statuses, CategoryNames.
  const listingGo = readFileSync(new URL('../../listing.go', import.meta.url), 'utf8');
  const goList = (name) => JSON.parse('[' + new RegExp(name + ' += \\[\\]string\\{([^}]*)\\}').exec(listingGo)[1] + ']');
  assert.deepEqual(CATEGORIES, goList('CategoryNames'));
  for (const lang of LANGS) {
    const s = STRINGS[lang];
    for (const r of REASONS) {
      const m = s.reason[r];
      if (r === 'bad_length') for (const k of KINDS) assert.equal(typeof m[k], 'string', `${lang} ${r} ${k}`);
      else assert.equal(typeof m, 'string', `${lang} ${r}`);
    }
    assert.deepEqual(Object.keys(s.category), CATEGORIES);
    assert.deepEqual(Object.keys(s.source_kind), goList('SourceKinds'));
    assert.deepEqual(Object.keys(s.status_name), goList('Statuses'));
    assert.deepEqual(Object.keys(s.kind_title), KINDS);
    for (const code of ['network', 'timeout', 'rate_limited', 'unauthorized', 'unavailable', 'server', 'key_rotated', 'bad_proof', 'malformed', 'suite', 'bucket_bits']) {
      assert.ok(s.error[code], `${lang} error ${code}`);
    }
    for (const k of KINDS) {
      for (const key of ['need_value', 'looks_like', 'looks_like_kind']) assert.equal(typeof s[key][k], 'string', `${lang} ${key} ${k}`);
    }
  }
});

test('the refusal of a server asking for too many bucket bits says the numbers', () => {
  assert.equal(STRINGS.en.error.bucket_bits(32, 16), 'This server asked for a 32-bit bucket number, more than the 16 bits this page accepts, so nothing was sent. ' +
    'The bucket number is what the server learns about what you check: at 16 bits about 6,900 mobile numbers share one, but at 32 bits it could point to your number alone. ' +
    'The server may be set up wrongly or tampered with: do not use it, and tell the people who run it.');
  assert.ok(STRINGS.en.error.bucket_bits(20, 16).includes('but at 20 bits only about 430 would.'));
  assert.ok(STRINGS.en.error.bucket_bits(24, 16).includes('but at 24 bits only about 27 would.'));
  assert.ok(STRINGS.en.error.bucket_bits(28, 16).includes('it could point to your number alone'));
  assert.ok(STRINGS.en.error.bucket_bits(16, 12).includes('at 12 bits about 110,000 mobile numbers share one, but at 16 bits only about 6,900 would.'));
  for (const bits of [20, 32]) {
    const ur = STRINGS.ur.error.bucket_bits(bits, 16);
    assert.ok(ur.includes(`${bits} بِٹ`) && ur.includes('6,900'), ur);
  }
});

test('advice: steps by category, then the ones for every case', () => {
  const all = CATEGORIES.map((category) => ({ category, price_pkr: 1 }));
  const a = adviceFor([{ kind: 'phone', listings: [{ categories: all }] }]);
  assert.deepEqual(a.byCategory.map((c) => c.category), CATEGORIES);
  const steps = new Set([...a.byCategory.flatMap((c) => c.steps), ...a.always]);
  for (const lang of LANGS) for (const id of steps) assert.ok(STRINGS[lang].step[id], `${lang} step ${id}`);
  assert.deepEqual(Object.keys(STRINGS.en.step).sort(), [...steps].sort(), 'every step is given somewhere');

  const imei = adviceFor([{ kind: 'imei', listings: [{ categories: [{ category: 'location' }, { category: 'someday_new' }] }] }]);
  assert.deepEqual(imei.byCategory.map((c) => c.category), ['location', 'other']);
  assert.deepEqual(imei.always, ['dirbs', 'report_1799', 'refuse_calls']);
  const cnic = adviceFor([{ kind: 'cnic', listings: [{ categories: [{ category: 'sim_ownership' }] }] }]);
  assert.deepEqual(cnic.always, ['report_1799', 'refuse_calls'], 'steps given for a category are not repeated');
});

test('the language: remembered, else the browser’s first English or Urdu', () => {
  assert.equal(pickLang('ur', ['en-US']), 'ur');
  assert.equal(pickLang(null, ['ur-PK', 'en']), 'ur');
  assert.equal(pickLang(null, ['de-DE', 'UR', 'en']), 'ur');
  assert.equal(pickLang(null, ['pa-PK', 'en-GB', 'ur']), 'en');
  assert.equal(pickLang('xx', ['fr']), 'en');
  assert.equal(pickLang(null, undefined), 'en');
});

test('dates, prices and waiting times', () => {
  assert.equal(formatDate('en', '2024-10-06'), '6 October 2024');
  assert.equal(formatDate('ur', '2024-10-06'), '6 اکتوبر 2024');
  assert.equal(formatDate('en', ''), '');
  assert.equal(formatDate('en', 'someday'), 'someday');
  assert.equal(groupDigits(25000), '25,000');
  assert.equal(groupDigits(100000000), '100,000,000');
  assert.equal(STRINGS.en.price(3500), 'Rs 3,500');
  assert.equal(STRINGS.ur.price(3500), '3,500 روپے');
  assert.equal(STRINGS.en.price(0), 'no price given');
  const now = new Date(2026, 0, 2, 10, 0, 0).getTime();
  assert.deepEqual(formatRetry('en', new Date(now + 45_000), now), { at: '10:00', rel: '45 seconds' });
  assert.deepEqual(formatRetry('en', new Date(now + 3_600_000), now), { at: '11:00', rel: '60 minutes' });
  assert.deepEqual(formatRetry('en', new Date(now + 60_000), now), { at: '10:01', rel: '1 minute' });
  assert.deepEqual(formatRetry('ur', new Date(now + 7_200_000), now), { at: '12:00', rel: '2 گھنٹے' });
});
