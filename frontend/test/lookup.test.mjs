// src/lookup.js without a browser: the VOPRF against RFC 9497's test
// vectors (the ones hashing/ checks circl against), and the whole lookup
// against an in-process fake of the API built on noble's server side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { Client, LookupError, MAX_BUCKET_BITS, b64url, catalogueOf, fromB64url, fingerprint, match, retryAt } from '../src/lookup.js';
import { parse } from '../src/identifier.js';

const voprf = ristretto255_oprf.voprf;

test('finalizing RFC 9497 ristretto255-SHA512 VOPRF vectors', () => {
  const v = JSON.parse(readFileSync(new URL('../../hashing/testdata/rfc9497-ristretto255-voprf.json', import.meta.url), 'utf8'));
  assert.equal(v.identifier, 'ristretto255-SHA512');
  assert.equal(v.mode, 1);
  for (const vec of v.vectors) {
    const split = (s) => s.split(',').map(hexToBytes);
    const [inputs, blinds, blinded, evaluated] = [vec.Input, vec.Blind, vec.BlindedElement, vec.EvaluationElement].map(split);
    const items = inputs.map((input, i) => ({ input, blind: blinds[i], blinded: blinded[i], evaluated: evaluated[i] }));
    const out = voprf.finalizeBatch(items, hexToBytes(v.pkSm), hexToBytes(vec.Proof.proof));
    assert.deepEqual(out.map(bytesToHex), vec.Output.split(','));
    const bad = hexToBytes(vec.Proof.proof);
    bad[0] ^= 1;
    assert.throws(() => voprf.finalizeBatch(items, hexToBytes(v.pkSm), bad));
  }
});

test('the fingerprint is written as the Go side writes it', () => {
  // As "khabardar keys show" printed them for one key.
  const pub = fromB64url('mHtIV992CWPQiVSVEbGaRXmWQinErN0xyn-q6r-1Zjk');
  assert.equal(fingerprint(pub), '7f4f c5a5 6c6d e4d9 197c 61dd c013 9718 702f 9dcd e710 5914 e611 4a94 61a0 05bd');
  assert.equal(b64url(pub), 'mHtIV992CWPQiVSVEbGaRXmWQinErN0xyn-q6r-1Zjk');
  assert.throws(() => fromB64url('not base64!'), LookupError);
});

test('Retry-After: seconds or an HTTP date', () => {
  const now = Date.UTC(2026, 0, 2, 10, 0, 0);
  assert.equal(retryAt('120', now).getTime(), now + 120_000);
  assert.equal(retryAt('Fri, 02 Jan 2026 10:30:00 GMT', now).getTime(), now + 1_800_000);
  assert.equal(retryAt('Fri, 02 Jan 2026 09:00:00 GMT', now), null);
  assert.equal(retryAt('soon', now), null);
  assert.equal(retryAt(null, now), null);
});

test('match compares whole suffixes', () => {
  const entries = [{ suffix: 'aa00', listings: ['b'] }, { suffix: 'aa01', listings: ['a', 'b'] }, { suffix: 'aa0', listings: ['c'] }];
  assert.deepEqual(match(entries, 'aa01'), ['a', 'b']);
  assert.deepEqual(match(entries, 'aa0'), ['c']);
  assert.deepEqual(match(entries, 'ffff'), []);
});

// fakeServer answers the API's routes like khabardar serve, for the given
// identifiers (canonical → listing ids) and listings.
function fakeServer({ bucketBits = 16, suffixBytes = 8, maxBatch = 16, stored = {}, listings = [] } = {}) {
  let keys = voprf.generateKeyPair();
  const keyId = () => bytesToHex(keys.publicKey).slice(0, 16); // any stable id will do here
  const srv = { calls: [], rotateNext: 0, buckets: new Map() };
  const split = (y) => {
    const h = bytesToHex(y);
    const p = bucketBits / 4;
    return [h.slice(0, p), h.slice(p, p + 2 * suffixBytes)];
  };
  srv.index = () => {
    srv.buckets.clear();
    for (const [canonical, ids] of Object.entries(stored)) {
      const input = utf8ToBytes(canonical);
      const b = voprf.blind(input);
      const ev = voprf.blindEvaluateBatch(keys.secretKey, keys.publicKey, [b.blinded]);
      const [y] = voprf.finalizeBatch([{ input, blind: b.blind, blinded: b.blinded, evaluated: ev.evaluated[0] }], keys.publicKey, ev.proof);
      const [prefix, suffix] = split(y);
      if (!srv.buckets.has(prefix)) srv.buckets.set(prefix, []);
      srv.buckets.get(prefix).push({ suffix, listings: ids });
    }
  };
  srv.rotate = () => {
    keys = voprf.generateKeyPair();
    srv.index();
  };
  srv.index();
  const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
  srv.fetch = async (url, opts = {}) => {
    const u = new URL(url);
    srv.calls.push({ method: opts.method, path: u.pathname + u.search, body: opts.body || '', headers: opts.headers });
    if (u.pathname === '/v1/config') {
      return json(200, {
        suite: 'ristretto255-SHA512', mode: 'voprf', key_id: keyId(), public_key: b64url(keys.publicKey),
        fingerprint: fingerprint(keys.publicKey), bucket_bits: bucketBits, suffix_bytes: suffixBytes, max_batch: maxBatch,
      });
    }
    if (u.pathname === '/v1/evaluate') {
      const req = JSON.parse(opts.body);
      if (srv.rotateNext > 0) {
        srv.rotateNext--;
        srv.rotate();
      }
      if (req.key_id !== keyId()) return json(409, { error: { code: 'key_rotated', message: 'x' } });
      if (req.blinded.length > maxBatch) return json(400, { error: { code: 'batch_too_large', message: 'x' } });
      const ev = voprf.blindEvaluateBatch(keys.secretKey, keys.publicKey, req.blinded.map(fromB64url));
      return json(200, { key_id: keyId(), evaluated: ev.evaluated.map(b64url), proof: b64url(ev.proof) });
    }
    const m = /^\/v1\/buckets\/([0-9a-f]+)$/.exec(u.pathname);
    if (m) {
      const dummy = { suffix: 'f'.repeat(2 * suffixBytes), listings: [] };
      return json(200, { key_id: keyId(), prefix: m[1], entries: [dummy, ...(srv.buckets.get(m[1]) || [])], padding: '000' });
    }
    if (u.pathname === '/v1/listings') return json(200, { listings });
    return json(404, { error: { code: 'not_found', message: 'x' } });
  };
  return srv;
}

const listing = (id, extra = {}) => ({ id, title: id, source: { kind: 'website' }, first_seen: '2025-01-02', status: 'active', categories: [{ category: 'cdr', price_pkr: 3500 }], ...extra });

async function withFetch(srv, fn) {
  const saved = globalThis.fetch;
  globalThis.fetch = srv.fetch;
  try {
    return await fn();
  } finally {
    globalThis.fetch = saved;
  }
}

const ids = (...pairs) => pairs.map(([kind, raw]) => parse(kind, raw));

test('a lookup finds what is stored, and sends no identifier', async () => {
  const srv = fakeServer({
    bucketBits: 12, suffixBytes: 10,
    stored: { 'phone:+923001234567': ['leak-a', 'leak-b'], 'cnic:3520212345671': ['leak-b', 'gone'] },
    listings: [listing('leak-a'), listing('leak-b', { new_field: 1 })],
  });
  const checked = ids(['phone', '0300-1234567'], ['cnic', '35202-1234567-1'], ['imei', '352099001761481']);
  const res = await withFetch(srv, () => new Client('http://site.test/').check(checked));
  assert.deepEqual(res.map((r) => [r.kind, r.listings.map((l) => l.id)]),
    [['phone', ['leak-a', 'leak-b']], ['cnic', ['leak-b']], ['imei', []]]); // "gone" is not in the catalogue
  const routes = srv.calls.map((c) => c.method + ' ' + c.path.replace(/[0-9a-f]{3}$/, '{prefix}'));
  assert.deepEqual(routes.slice(0, 2), ['GET /v1/config', 'POST /v1/evaluate']);
  assert.equal(routes[routes.length - 1], 'GET /v1/listings');
  const sent = JSON.stringify(srv.calls);
  for (const id of checked) {
    const digits = id.canonical.replace(/\D/g, '');
    assert.ok(!sent.includes(id.canonical) && !sent.includes(digits.slice(-10)), 'an identifier was sent');
  }
});

test('a lookup splits batches at max_batch, sets fabricated listings apart', async () => {
  const srv = fakeServer({
    maxBatch: 2,
    stored: { 'phone:+923001234567': ['fake', 'real'], 'phone:+923211234567': ['fake', 'not-fake'] },
    listings: [listing('real'), listing('fake', { fabricated: true }), listing('not-fake', { fabricated: 'yes' })],
  });
  const res = await withFetch(srv, () => new Client('http://site.test/').check(
    ids(['phone', '03001234567'], ['phone', '03211234567'], ['cnic', '3520212345671'])));
  // Only a listing flagged fabricated: true is set apart, never counted.
  assert.deepEqual(res.map((r) => r.listings.map((l) => l.id)), [['real'], ['not-fake'], []]);
  assert.deepEqual(res.map((r) => r.fabricated.map((l) => l.id)), [['fake'], ['fake'], []]);
  assert.equal(srv.calls.filter((c) => c.path === '/v1/evaluate').length, 2);
});

test('a rotated key is fetched again once; twice is an error', async () => {
  const srv = fakeServer({ stored: { 'phone:+923001234567': ['a'] }, listings: [listing('a')] });
  const client = new Client('http://site.test/');
  await withFetch(srv, async () => {
    await client.config();
    srv.rotateNext = 1;
    const [r] = await client.check(ids(['phone', '03001234567']));
    assert.deepEqual(r.listings.map((l) => l.id), ['a']);
    srv.rotateNext = 2;
    await assert.rejects(client.check(ids(['phone', '03001234567'])), (e) => e.code === 'key_rotated');
  });
});

test('error answers become LookupError codes', async () => {
  const cases = [
    [429, { 'Retry-After': '60' }, 'rate_limited'],
    [401, {}, 'unauthorized'],
    [503, {}, 'unavailable'],
    [500, {}, 'server'],
    [400, {}, 'server'],
  ];
  for (const [status, headers, code] of cases) {
    const srv = fakeServer();
    const inner = srv.fetch;
    srv.fetch = (url, opts) => (url.endsWith('/v1/evaluate')
      ? new Response('{"error":{"code":"x","message":"y"}}', { status, headers })
      : inner(url, opts));
    const before = Date.now();
    const err = await withFetch(srv, () => new Client('http://site.test/').check(ids(['phone', '03001234567'])).catch((e) => e));
    assert.ok(err instanceof LookupError);
    assert.equal(err.code, code);
    if (code === 'rate_limited') assert.ok(err.retryAt.getTime() >= before + 60_000);
  }
  const broken = fakeServer();
  broken.fetch = async () => new Response('<html>captive portal</html>', { status: 200 });
  const err = await withFetch(broken, () => new Client('http://site.test/').config().catch((e) => e));
  assert.equal(err.code, 'malformed');
  const down = fakeServer();
  down.fetch = async () => {
    throw new TypeError('fetch failed');
  };
  assert.equal((await withFetch(down, () => new Client('http://site.test/').config().catch((e) => e))).code, 'network');
});

test('a config whose fingerprint or suite is wrong is refused', async () => {
  for (const [change, code] of [[{ fingerprint: '0000' }, 'malformed'], [{ mode: 'oprf' }, 'suite'], [{ bucket_bits: 6 }, 'malformed'], [{ public_key: 'AAAA' }, 'malformed']]) {
    const srv = fakeServer();
    const inner = srv.fetch;
    srv.fetch = async (url, opts) => {
      const r = await inner(url, opts);
      return url.endsWith('/v1/config') ? new Response(JSON.stringify({ ...(await r.json()), ...change }), { status: 200 }) : r;
    };
    const err = await withFetch(srv, () => new Client('http://site.test/').config().catch((e) => e));
    assert.equal(err.code, code, JSON.stringify(change));
  }
});

test('a config asking for more bucket bits than the page accepts is refused before anything else is asked', async () => {
  const cases = [
    // bits the server asks for, the page's limit (undefined: the default), refused
    [12, undefined, false],
    [16, undefined, false],
    [17, undefined, true],
    [20, undefined, true],
    [24, undefined, true],
    [32, undefined, true],
    [64, undefined, true],
    [12, 12, false],
    [16, 12, true],
    [16, 15, true],
  ];
  for (const [bits, max, refused] of cases) {
    const name = `${bits} bits, limit ${max || 'default'}`;
    const srv = fakeServer({ bucketBits: bits % 4 === 0 && bits <= 32 ? bits : 16, stored: { 'phone:+923001234567': ['a'] }, listings: [listing('a')] });
    const inner = srv.fetch;
    srv.fetch = async (url, opts) => {
      const r = await inner(url, opts);
      return url.endsWith('/v1/config') ? new Response(JSON.stringify({ ...(await r.json()), bucket_bits: bits }), { status: 200 }) : r;
    };
    const client = new Client('http://site.test/', max ? { maxBucketBits: max } : undefined);
    const res = await withFetch(srv, () => client.check(ids(['phone', '03001234567'])).catch((e) => e));
    if (!refused) {
      assert.deepEqual(res.map((r) => r.listings.map((l) => l.id)), [['a']], name);
      continue;
    }
    assert.ok(res instanceof LookupError, name + ': not refused');
    assert.deepEqual([res.code, res.bits, res.max], ['bucket_bits', bits, max || 16], name);
    assert.deepEqual(srv.calls.map((c) => c.path), ['/v1/config'], name + ': asked more than the config');
    assert.equal(client.cfg, null, name + ': a refused config is kept');
  }
  assert.equal(MAX_BUCKET_BITS, 16);
});

test('the catalogue: the server\'s, or summed from the listings as the server sums it', () => {
  const ls = [
    listing('real', { counts: { cnic: 2, phone: 1, imei: 0 }, added: '2026-11-02' }),
    listing('newer', { counts: { cnic: 0, phone: 5, imei: 0 }, added: '2026-12-03' }),
    listing('fake', { counts: { cnic: 9, phone: 0, imei: 0 }, added: '2026-12-30', fabricated: true }),
    listing('empty', { counts: { cnic: 0, phone: 0, imei: 0 }, added: '2026-12-31' }),
    listing('old', { counts: { cnic: 1 }, last_seen: '2025-09-28' }),
  ];
  assert.deepEqual(catalogueOf({ listings: ls }), { listings: 3, identifiers: 9, newest_added: '2026-12-03' });
  assert.deepEqual(catalogueOf({ listings: [] }), { listings: 0, identifiers: 0, newest_added: '' });
  const sent = { listings: 12, identifiers: 3400, newest_added: '2026-12-01' };
  assert.deepEqual(catalogueOf({ listings: ls, catalogue: sent }), sent);
  assert.deepEqual(catalogueOf({ listings: ls, catalogue: { listings: 'many' } }), { listings: 3, identifiers: 9, newest_added: '2026-12-03' }, 'a malformed catalogue is not believed');
});

test('a check carries its catalogue; an empty one says nothing could be found', async () => {
  const srv = fakeServer({ stored: { 'phone:+923001234567': ['a'] }, listings: [listing('a', { counts: { phone: 1 }, added: '2026-12-03' })] });
  await withFetch(srv, async () => {
    const c = new Client('http://k.test/');
    const [r] = await c.check([parse('phone', '03001234567')]);
    assert.deepEqual(r.catalogue, { listings: 1, identifiers: 1, newest_added: '2026-12-03' });
    assert.deepEqual(await c.catalogue(), r.catalogue);
  });
  const empty = fakeServer({});
  await withFetch(empty, async () => {
    const c = new Client('http://k.test/');
    const [r] = await c.check([parse('phone', '03001234567')]);
    assert.equal(r.catalogue.listings, 0);
    assert.deepEqual(r.listings, []);
  });
});
