// src/identifier.js against the shared parsing cases and, when Go is
// installed, against the Go parser itself on the cases under every kind and
// on generated inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse, parseKind, REASONS, KINDS } from '../src/identifier.js';

const frontend = fileURLToPath(new URL('..', import.meta.url));
const caseFiles = ['identifiers.json', 'extra_cases.json'];
const load = (name) => JSON.parse(readFileSync(new URL(`../../identifier/testdata/${name}`, import.meta.url), 'utf8')).cases;

// Test names carry the case's note or index, never its input.
for (const file of caseFiles) {
  test(`cases in ${file}`, async (t) => {
    const cases = load(file);
    assert.ok(cases.length > 0);
    for (const [i, c] of cases.entries()) {
      await t.test(`${i} ${c.kind || 'detect'} ${c.note || c.reject || 'ok'}`, () => {
        const kind = parseKind(c.kind);
        assert.notEqual(kind, null, `kind ${c.kind}`);
        const got = parse(kind, c.input);
        if (c.canonical) {
          assert.equal(got.canonical, c.canonical, `rejected: ${got.reason}`);
          return;
        }
        assert.equal(got.canonical, undefined, 'accepted, want rejected');
        assert.ok(REASONS.includes(got.reason), `reason ${got.reason}`);
        if (c.reason) assert.equal(got.reason, c.reason);
      });
    }
  });
}

test('the cases reject with every reason', () => {
  const seen = new Set();
  for (const file of caseFiles) {
    for (const c of load(file)) if (c.reason) seen.add(c.reason);
  }
  assert.deepEqual([...seen].sort(), [...REASONS].sort());
});

// rng is a small deterministic generator (mulberry32), so a failure
// reproduces.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// generated returns inputs aimed at the rules' edges: phone prefixes of
// every kind and length, numbers of 1 to 22 digits, separators, other digit
// scripts, stray characters, spreadsheet forms.
function generated(count) {
  const r = rng(9497);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const digits = (n) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const heads = ['', '', '0', '3', '03', '92', '923', '920', '9203', '0092', '00923', '00920', '00', '000', '+', '+92',
    '+923', '+920', '+0', '+00', '+0092', '+000', '+1', '+7', '+8', '+44', '+49', '+490', '+54', '+549', '+540',
    '+55', '+550', '+5590', '+81', '+810003', '+82', '+86', '+861', '+61', '+611831', '+36', '+3606', '+999', '+800',
    '+20', '+2', '+21', '+212', '+992', '+0033', '3.5', '08', '080', '0800', '09', '0900', '042', '051', '1', '12', '122'];
  const mobile = ['30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '300', '338', '339', '355', '364', '370', '380'];
  const noise = [' ', '-', '.', '/', '(', ')', '\u00a0', '\u200f', '\u0085', 'x', ',', 'E', 'e+', '+', ':', '\u2013', "'", '"', '='];
  const scripts = [(s) => s, (s) => s, (s) => s, (s) => s.replace(/\d/g, (d) => String.fromCharCode(0x6f0 + +d)),
    (s) => s.replace(/\d/g, (d) => String.fromCharCode(0x660 + +d)), (s) => s.replace(/\d/g, (d) => String.fromCharCode(0xff10 + +d))];
  const out = [];
  for (let i = 0; i < count; i++) {
    let s = pick(heads) + (r() < 0.4 ? pick(mobile) : '') + digits(Math.floor(r() * 20));
    if (r() < 0.25) {
      const at = Math.floor(r() * (s.length + 1));
      s = s.slice(0, at) + pick(noise) + s.slice(at);
    }
    if (r() < 0.1) s = pick(['cnic:', 'phone:', 'IMEI:', '="', "'", ' ']) + s;
    if (r() < 0.05) s = digits(1) + '.' + digits(5) + 'E+' + digits(2);
    out.push({ kind: pick(['', ...KINDS]), input: pick(scripts)(s) });
  }
  return out;
}

test('agrees with the Go parser', (t) => {
  const queries = [];
  for (const file of caseFiles) {
    for (const c of load(file)) for (const kind of ['', ...KINDS]) queries.push({ kind, input: c.input });
  }
  queries.push(...generated(40000));
  const go = spawnSync('go', ['run', './test/goparse'], {
    cwd: frontend, input: JSON.stringify(queries), encoding: 'utf8', maxBuffer: 64 << 20,
  });
  if (go.error && go.error.code === 'ENOENT') {
    t.skip('go is not installed: compared with the shared cases only');
    return;
  }
  assert.equal(go.status, 0, go.stderr);
  const answers = JSON.parse(go.stdout);
  assert.equal(answers.length, queries.length);
  const diffs = [];
  queries.forEach((q, i) => {
    const got = parse(q.kind, q.input);
    const want = answers[i];
    if (got.canonical !== want.canonical || got.reason !== want.reason) {
      diffs.push(`${JSON.stringify(q)}: js ${got.canonical || got.reason}, go ${want.canonical || want.reason}`);
    }
  });
  // Synthetic inputs, not anyone's identifiers: printed to find the rule.
  assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} of ${queries.length} differ`);
});
