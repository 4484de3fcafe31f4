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

export const SUITE = 'ristretto255-SHA512';
const TIMEOUT_MS = 30000; // one request, body included, as the Go client
const voprf = ristretto255_oprf.voprf;

// MAX_BUCKET_BITS is the most bucket bits the page accepts, as the Go
// client's DefaultMaxBucketBits: a 16-bit prefix is shared by about
// 4.5×10⁸ / 65,536 ≈ 6,900 possible mobile numbers, a 32-bit one by none.
export const MAX_BUCKET_BITS = 16;

// LookupError is a failed lookup. code is one of: network, timeout,
// rate_limited (retryAt: a Date or null), unauthorized, unavailable, server,
// key_rotated, bad_proof, malformed, suite, bucket_bits (bits: what the
// server asked for, max: the most the page accepts). It never holds an
// identifier.
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
    this.maxBucketBits = Number.isInteger(maxBucketBits) && maxBucketBits >= 4 && maxBucketBits < MAX_BUCKET_BITS
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
    const c = await this.request('GET', 'v1/config');
    if (c.suite !== SUITE || c.mode !== 'voprf') throw new LookupError('suite');
    // Before the other checks, so the refusal is said in plain words.
    if (typeof c.bucket_bits === 'number' && c.bucket_bits > this.maxBucketBits) {
      throw new LookupError('bucket_bits', null, { bits: c.bucket_bits, max: this.maxBucketBits });
    }
    if (typeof c.key_id !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(c.key_id)) throw new LookupError('malformed');
    const pub = fromB64url(c.public_key);
    try {
      if (ristretto255.Point.fromBytes(pub).is0()) throw new Error('identity');
    } catch {
      throw new LookupError('malformed');
    }
    const fp = fingerprint(pub);
    const bits = c.bucket_bits;
    const suffix = c.suffix_bytes;
    if (c.fingerprint !== fp || !Number.isInteger(bits) || bits < 4 || bits > 32 || bits % 4 !== 0 ||
        !Number.isInteger(suffix) || suffix < 8 || suffix > 32 || !Number.isInteger(c.max_batch) || c.max_batch < 1) {
      throw new LookupError('malformed');
    }
    this.cfg = { keyId: c.key_id, publicKey: pub, fingerprint: fp, bucketBits: bits, suffixBytes: suffix, maxBatch: c.max_batch };
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
        if (attempt > 0 || e.code !== 'key_rotated') throw e;
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
      return { kind: id.kind, listings, fabricated };
    });
  }

  async evaluate(cfg, ids) {
    const inputs = ids.map((id) => utf8ToBytes(id.canonical));
    const blinds = inputs.map((input) => voprf.blind(input));
    const resp = await this.request('POST', 'v1/evaluate', JSON.stringify({
      key_id: cfg.keyId, blinded: blinds.map((b) => b64url(b.blinded)),
    }));
    if (resp.key_id !== cfg.keyId) throw new LookupError('key_rotated');
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
    const p = cfg.bucketBits / 4;
    return outputs.map((y) => {
      const h = bytesToHex(y); // hashing.Split: hex(y) = prefix ‖ hex(suffix) ‖ …
      return { prefix: h.slice(0, p), suffix: h.slice(p, p + 2 * cfg.suffixBytes) };
    });
  }

  async bucket(cfg, prefix) {
    const b = await this.request('GET', 'v1/buckets/' + prefix);
    if (b.key_id !== cfg.keyId) throw new LookupError('key_rotated');
    if (b.prefix !== prefix || !Array.isArray(b.entries)) throw new LookupError('malformed');
    const hex = new RegExp('^[0-9a-f]{' + 2 * cfg.suffixBytes + '}$');
    for (const e of b.entries) {
      if (!e || typeof e.suffix !== 'string' || !hex.test(e.suffix) || !Array.isArray(e.listings)) {
        throw new LookupError('malformed');
      }
    }
    return b.entries;
  }

  async listings() {
    const r = await this.request('GET', 'v1/listings');
    if (!Array.isArray(r.listings)) throw new LookupError('malformed');
    const m = new Map();
    for (const l of r.listings) {
      if (!l || typeof l.id !== 'string' || l.id === '') throw new LookupError('malformed');
      m.set(l.id, l);
    }
    return m;
  }
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
    case 429: return new LookupError('rate_limited', retryAt(resp.headers.get('Retry-After')));
    case 409: return new LookupError(code === 'key_rotated' ? 'key_rotated' : 'server');
    case 401: return new LookupError('unauthorized');
    case 503: return new LookupError('unavailable');
  }
  return new LookupError('server');
}
