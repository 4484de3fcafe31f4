// The lookup, as client/client.go does it: blind each canonical identifier
// (RFC 9497 VOPRF, ristretto255-SHA512, verifiable mode), have the server
// evaluate the batch, check its proof against the published key, unblind,
// fetch the bucket named by each output's prefix and look for the suffix in
// it here. The server receives blinded points and bucket prefixes, never an
// identifier; the whole listing catalogue is fetched whatever matched, since
// asking for one listing would say which entry of the bucket matched.
//
// The prefix is what the server learns about each identifier, so its length
// is not the server's to choose: a config asking for more than
// MAX_BUCKET_BITS is refused before anything is evaluated.

import { ristretto255, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import * as wire from './wire.gen.js';

export const SUITE = wire.SUITE;
const TIMEOUT_MS = 30000; // one request, body included, as the Go client
const voprf = ristretto255_oprf.voprf;

// MAX_BUCKET_BITS is the most bucket bits the page accepts, as the Go
// client's (wire.DefaultMaxBucketBits): a 16-bit prefix is shared by about
// 4.5×10⁸ / 65,536 ≈ 6,900 possible mobile numbers, a 32-bit one by none.
export const MAX_BUCKET_BITS = wire.DEFAULT_MAX_BUCKET_BITS;

// LookupError is a failed lookup. code is one of: network, timeout,
// rate_limited (retryAt: a Date or null), unauthorized, unavailable, server,
// key_rotated, bad_proof, malformed, suite, bucket_bits (bits: what the
// server asked for, max: the most the page accepts). Those named like an
// API error code are that code (wire.gen.js). It never holds an identifier.
export class LookupError extends Error {
  constructor(code, retryAt = null, detail = {}) {
    super(code);
    this.code = code;
    this.retryAt = retryAt;
    Object.assign(this, detail);
  }
}

export function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw new LookupError('malformed');
  let bin;
  try {
    bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    throw new LookupError('malformed');
  }
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// fingerprint is hashing.Fingerprint: SHA-256 of the public key in groups
// of four hex digits.
export function fingerprint(pub) {
  return bytesToHex(sha256(pub)).match(/.{4}/g).join(' ');
}

// retryAt reads a Retry-After header: seconds or an HTTP date.
export function retryAt(header, now = Date.now()) {
  const v = (header || '').trim();
  if (/^\d+$/.test(v)) return new Date(now + Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) || t <= now ? null : new Date(t);
}

// Client talks to the server at base, a URL ending in '/' under which v1/…
// lives (the page's own directory). maxBucketBits may lower the most bucket
// bits accepted, never raise it: anything else is MAX_BUCKET_BITS.
export class Client {
  constructor(base, { maxBucketBits } = {}) {
    this.base = base;
    this.maxBucketBits = Number.isInteger(maxBucketBits) && maxBucketBits >= wire.MIN_BUCKET_BITS && maxBucketBits < MAX_BUCKET_BITS
      ? maxBucketBits : MAX_BUCKET_BITS;
    this.cfg = null;
    this.pending = null; // a config fetch under way, shared by its callers
  }

  async request(method, path, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    const headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    try {
      let resp;
      let text;
      try {
        resp = await fetch(new URL(path, this.base).href, {
          method, headers, body, signal: ctl.signal, credentials: 'omit', referrerPolicy: 'no-referrer',
        });
        text = await resp.text();
      } catch {
        throw new LookupError(ctl.signal.aborted ? 'timeout' : 'network');
      }
      if (!resp.ok) throw errorFor(resp, text);
      let v;
      try {
        v = JSON.parse(text);
      } catch {
        throw new LookupError('malformed');
      }
      if (typeof v !== 'object' || v === null) throw new LookupError('malformed');
      return v;
    } finally {
      clearTimeout(timer);
    }
  }

  // config fetches and checks /v1/config; the fingerprint is computed here,
  // so the one shown is that of the key proofs are checked against.
  config() {
    if (!this.pending) {
      this.pending = this.fetchConfig().finally(() => {
        this.pending = null;
      });
    }
    return this.pending;
  }

  async fetchConfig() {
    const c = await this.request('GET', wire.ROUTE_CONFIG);
    if (c.suite !== SUITE || c.mode !== wire.MODE_VOPRF) throw new LookupError('suite');
    // Before the other checks, so the refusal is said in plain words.
    if (typeof c.bucket_bits === 'number' && c.bucket_bits > this.maxBucketBits) {
      throw new LookupError('bucket_bits', null, { bits: c.bucket_bits, max: this.maxBucketBits });
    }
    if (typeof c.key_id !== 'string' || c.key_id.length > wire.MAX_KEY_ID_LEN || !/^[\x21-\x7e]+$/.test(c.key_id)) {
      throw new LookupError('malformed');
    }
    const pub = fromB64url(c.public_key);
    try {
      if (ristretto255.Point.fromBytes(pub).is0()) throw new Error('identity');
    } catch {
      throw new LookupError('malformed');
    }
    const fp = fingerprint(pub);
    const bits = c.bucket_bits;
    const suffix = c.suffix_bytes;
    if (c.fingerprint !== fp || !Number.isInteger(bits) || bits < wire.MIN_BUCKET_BITS || bits > wire.MAX_BUCKET_BITS ||
        bits % wire.BITS_PER_HEX_DIGIT !== 0 || !Number.isInteger(suffix) || suffix < wire.MIN_SUFFIX_BYTES ||
        suffix > wire.MAX_SUFFIX_BYTES || !Number.isInteger(c.max_batch) || c.max_batch < 1) {
      throw new LookupError('malformed');
    }
    this.cfg = {
      keyId: c.key_id, publicKey: pub, fingerprint: fp, bucketBits: bits, suffixBytes: suffix, maxBatch: c.max_batch,
      alerts: c.alerts === true,
    };
    return this.cfg;
  }

  // check looks up canonical identifiers ({kind, canonical}) and returns, in
  // order, {kind, listings, fabricated}: the catalogue entries each appears
  // in, those flagged fabricated apart (shown, never counted as found).
  async check(ids) {
    for (let attempt = 0; ; attempt++) {
      const cfg = this.cfg || (await this.config());
      try {
        return await this.run(cfg, ids);
      } catch (e) {
        if (attempt > 0 || e.code !== wire.CODE_KEY_ROTATED) throw e;
        this.cfg = null; // the key changed: fetch it again and blind again, once
      }
    }
  }

  async run(cfg, ids) {
    const splits = [];
    for (let i = 0; i < ids.length; i += cfg.maxBatch) {
      splits.push(...(await this.evaluate(cfg, ids.slice(i, i + cfg.maxBatch))));
    }
    // Each bucket once, then the catalogue, all at once: on a slow
    // connection every round trip counts.
    const prefixes = [...new Set(splits.map((s) => s.prefix))].sort();
    const answers = await Promise.all([...prefixes.map((p) => this.bucket(cfg, p)), this.listings()]);
    const catalogue = answers.pop();
    const buckets = new Map(prefixes.map((p, i) => [p, answers[i]]));
    return ids.map((id, i) => {
      const s = splits[i];
      const listings = [];
      const fabricated = [];
      for (const lid of match(buckets.get(s.prefix), s.suffix)) {
        // Missing: removed since the bucket was read. Fabricated: a listing
        // shown to be fake, whose entries are no evidence of a sale.
        const l = catalogue.get(lid);
        if (l) (l.fabricated === true ? fabricated : listings).push(l);
      }
      // watch is what alerts need of this identifier: its VOPRF output's
      // bucket prefix and suffix, never the value. It stays in memory.
      return { kind: id.kind, listings, fabricated, catalogue: this.lastCatalogue, watch: { prefix: s.prefix, suffix: s.suffix, kind: id.kind } };
    });
  }

  async evaluate(cfg, ids) {
    const inputs = ids.map((id) => utf8ToBytes(id.canonical));
    const blinds = inputs.map((input) => voprf.blind(input));
    const resp = await this.request('POST', wire.ROUTE_EVALUATE, JSON.stringify({
      key_id: cfg.keyId, blinded: blinds.map((b) => b64url(b.blinded)),
    }));
    if (resp.key_id !== cfg.keyId) throw new LookupError(wire.CODE_KEY_ROTATED);
    if (!Array.isArray(resp.evaluated) || resp.evaluated.length !== ids.length) throw new LookupError('malformed');
    const items = inputs.map((input, i) => ({
      input, blind: blinds[i].blind, blinded: blinds[i].blinded, evaluated: fromB64url(resp.evaluated[i]),
    }));
    let outputs;
    try {
      outputs = voprf.finalizeBatch(items, cfg.publicKey, fromB64url(resp.proof));
    } catch {
      throw new LookupError('bad_proof'); // not evaluated with the published key, or tampered with
    }
    const p = cfg.bucketBits / wire.BITS_PER_HEX_DIGIT;
    return outputs.map((y) => {
      const h = bytesToHex(y); // hashing.Split: hex(y) = prefix ‖ hex(suffix) ‖ …
      return { prefix: h.slice(0, p), suffix: h.slice(p, p + 2 * cfg.suffixBytes) };
    });
  }

  async bucket(cfg, prefix) {
    const b = await this.request('GET', wire.ROUTE_BUCKET.replace(':prefix', prefix));
    if (b.key_id !== cfg.keyId) throw new LookupError(wire.CODE_KEY_ROTATED);
    if (b.prefix !== prefix || !Array.isArray(b.entries)) throw new LookupError('malformed');
    const hex = new RegExp('^[0-9a-f]{' + 2 * cfg.suffixBytes + '}$');
    for (const e of b.entries) {
      if (!e || typeof e.suffix !== 'string' || !hex.test(e.suffix) || !Array.isArray(e.listings)) {
        throw new LookupError('malformed');
      }
    }
    return b.entries;
  }

  // alertCode asks the server to send a confirmation code by SMS to
  // number, in lang.
  async alertCode(number, lang) {
    return this.request('POST', wire.ROUTE_ALERT_CODE, JSON.stringify({ number, lang }));
  }

  // alertSubscribe confirms code and watches the identifiers of a check
  // (their results' watch fields).
  async alertSubscribe(number, code, lang, watches) {
    const r = await this.request('POST', wire.ROUTE_ALERT_SUBSCRIBE, JSON.stringify({ number, code, lang, watches }));
    if (!Number.isInteger(r.watching)) throw new LookupError('malformed');
    return r.watching;
  }

  async listings() {
    const r = await this.request('GET', wire.ROUTE_LISTINGS);
    if (!Array.isArray(r.listings)) throw new LookupError('malformed');
    const m = new Map();
    for (const l of r.listings) {
      if (!l || typeof l.id !== 'string' || l.id === '') throw new LookupError('malformed');
      m.set(l.id, l);
    }
    this.lastCatalogue = catalogueOf(r);
    return m;
  }

  // catalogue returns what a check is made against: {listings, identifiers,
  // newest_added}. With listings 0 a check can find nothing, and the page
  // must say so instead of "not found".
  async catalogue() {
    await this.listings();
    return this.lastCatalogue;
  }
}

// catalogueOf reads the catalogue of a /v1/listings answer, or sums it
// from the listings for a server from before the field, as
// khabardar.Summarize does: listings not fabricated that hold identifiers.
export function catalogueOf(r) {
  const c = r.catalogue;
  if (c && Number.isInteger(c.listings) && Number.isInteger(c.identifiers) && typeof c.newest_added === 'string') {
    return { listings: c.listings, identifiers: c.identifiers, newest_added: c.newest_added };
  }
  const out = { listings: 0, identifiers: 0, newest_added: '' };
  for (const l of r.listings) {
    const n = Object.values(l.counts || {}).reduce((a, b) => a + (Number(b) || 0), 0);
    if (l.fabricated === true || n === 0) continue;
    out.listings++;
    out.identifiers += n;
    const d = l.added || l.last_seen || l.first_seen || '';
    if (d > out.newest_added) out.newest_added = d;
  }
  return out;
}

// match returns the sorted listing ids of the entries whose suffix is
// suffix, comparing every entry in full whatever it finds.
export function match(entries, suffix) {
  const ids = new Set();
  for (const e of entries) {
    let diff = e.suffix.length ^ suffix.length;
    for (let i = 0; i < suffix.length; i++) diff |= e.suffix.charCodeAt(i) ^ suffix.charCodeAt(i);
    if (diff === 0) for (const id of e.listings) ids.add(id);
  }
  return [...ids].sort();
}

function errorFor(resp, text) {
  let code = '';
  try {
    code = JSON.parse(text).error.code;
  } catch {
    // a proxy's error page: the status decides
  }
  switch (resp.status) {
    case 429: return new LookupError(wire.CODE_RATE_LIMITED, retryAt(resp.headers.get('Retry-After')));
    case 409:
      if (code === wire.CODE_KEY_ROTATED) return new LookupError(wire.CODE_KEY_ROTATED);
      return new LookupError(code === wire.CODE_CONFLICT ? 'too_many_watches' : 'server');
    case 401: return new LookupError(wire.CODE_UNAUTHORIZED);
    case 503: return new LookupError(wire.CODE_UNAVAILABLE);
    case 403: if (code === wire.CODE_WRONG_CODE) return new LookupError(wire.CODE_WRONG_CODE); break;
    case 404: if (code === wire.CODE_NOT_FOUND) return new LookupError('code_gone'); break;
    case 400: if (code === wire.CODE_INVALID) return new LookupError(wire.CODE_INVALID); break;
  }
  return new LookupError('server');
}
