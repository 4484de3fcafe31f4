// A port of the Go parser, identifier.Parse (identifier/parse.go and
// phone.go), so that the page accepts and rejects exactly what the server's
// ingest does, with the same reason codes. Mobile numbers are judged by
// libphonenumber's metadata (pkmobile.gen.js, generated from the Go
// dependency), through a port of the part of phonenumbers.Parse that digits
// and a leading plus can reach. test/identifier.test.mjs holds both to the
// shared cases and, when Go is installed, to the Go parser itself.

import { PK, CALLING_CODES, SHORT_CODE_PREFIXES } from './pkmobile.gen.js';
import { KIND_TABLE } from './kinds.gen.js';

// KINDS are the kinds' names, in identifier's order (kinds.gen.js).
export const KINDS = KIND_TABLE.map((k) => k.name);

// REASONS are identifier.Reasons: stable codes the messages are keyed by.
export const REASONS = [
  'empty', 'scientific_notation', 'decimal_number', 'bad_character', 'bad_length',
  'bad_region', 'bad_check_digit', 'not_mobile', 'unallocated', 'not_pakistani',
  'unrecognised', 'kind_mismatch', 'ambiguous',
];

const MAX_DIGITS = 20; // identifier.maxDigits

// parseKind is identifier.ParseKind: '' asks for detection; null is no kind.
export function parseKind(s) {
  const name = s.trim().toLowerCase();
  if (name === '') return '';
  const k = KIND_TABLE.find((k) => k.name === name || k.aliases.includes(name));
  return k ? k.name : null;
}

const ok = (kind, canonical) => ({ kind, canonical });
const fail = (kind, reason) => ({ kind, reason });

// parse returns {kind, canonical} for the identifier of kind ('' to detect)
// in raw, or {kind, reason} saying why there is none.
export function parse(kind, raw) {
  if (kind !== '' && !KINDS.includes(kind)) return fail('', 'unrecognised');
  let s = trim(raw);
  if (s === '') return fail(kind, 'empty');
  const cut = cutKindPrefix(s);
  if (cut) {
    if (kind !== '' && kind !== cut.kind) return fail(kind, 'kind_mismatch');
    kind = cut.kind;
    s = trim(cut.rest);
  }
  if (TEXT_PARSERS[kind]) return TEXT_PARSERS[kind].parse(s);
  if (kind === '') {
    for (const k of KINDS) {
      const p = TEXT_PARSERS[k];
      if (p && p.looks(s)) return p.parse(s);
    }
  }

  let digits = '';
  let n = 0;
  let plus = false;
  for (const ch of s) {
    const r = ch.codePointAt(0);
    const d = digitOf(r);
    if (d !== '') {
      if (n < MAX_DIGITS) digits += d;
      n++;
    } else if (isSeparator(r) || isSpace(r) || isIgnorable(r)) {
      // between digit groups
    } else if ((r === 0x2b || r === 0xff0b) && n === 0 && !plus) {
      plus = true;
    } else {
      return fail(kind, isScientific(s) ? 'scientific_notation' : 'bad_character');
    }
  }
  if (n === 0) return fail(kind, 'empty');
  if (isDecimal(s)) return fail(kind, 'decimal_number');
  if (n > MAX_DIGITS) {
    if (kind === '') {
      kind = detect(digits.slice(0, 2), plus);
      if (kind !== 'phone') return fail('', 'unrecognised'); // only an international prefix says what it is
    }
    return fail(kind, 'bad_length');
  }
  return parseDigits(kind, digits, plus);
}

function parseDigits(kind, d, plus) {
  if (kind === '') {
    kind = detect(d, plus);
    if (kind === '') return fail('', 'unrecognised');
    if (kind === 'cnic' && d.startsWith('9203')) return fail('', 'ambiguous');
  }
  switch (kind) {
    case 'cnic':
      if (plus) return fail(kind, 'bad_character');
      if (d.length !== 13) return fail(kind, 'bad_length');
      if (d[0] === '0') return fail(kind, 'bad_region');
      return ok(kind, 'cnic:' + d);
    case 'imei':
      if (plus) return fail(kind, 'bad_character');
      if (d.length === 15) {
        if (!luhn(d)) return fail(kind, 'bad_check_digit');
      } else if (d.length !== 14 && d.length !== 16) {
        return fail(kind, 'bad_length');
      }
      return ok(kind, 'imei:' + d.slice(0, 14)); // TAC + serial; an IMEISV's version is not the device's
    default:
      return parsePhone(d, plus);
  }
}

// detect returns the kind the digits have the shape of, or ''.
function detect(d, plus) {
  const n = d.length;
  if (plus || d.startsWith('00')) return 'phone'; // international prefix; 0092 + 10 digits is 14 long, like an IMEI
  if (n === 13) return 'cnic';
  if (n >= 14 && n <= 16) return 'imei';
  if ((n === 11 && d.startsWith('03')) || (n === 12 && d.startsWith('923')) || (n === 10 && d[0] === '3')) return 'phone';
  // A national number with its trunk 0 (042-1234567) or 92 without the plus:
  // a phone number, though not a mobile one (not_mobile, as in Go).
  if (((n === 10 || n === 11) && d[0] === '0') || (n === 12 && d.startsWith('92'))) return 'phone';
  return '';
}

function luhn(d) {
  let sum = 0;
  for (let i = d.length - 1; i >= 0; i--) {
    let v = d.charCodeAt(i) - 48;
    if ((d.length - 1 - i) % 2 === 1 && (v *= 2) > 9) v -= 9;
    sum += v;
  }
  return sum % 10 === 0;
}

// digitOf maps the digit scripts people use in Pakistan to ASCII, or ''.
function digitOf(r) {
  if (r >= 0x30 && r <= 0x39) return String.fromCharCode(r);
  if (r >= 0x660 && r <= 0x669) return String(r - 0x660); // Arabic-Indic
  if (r >= 0x6f0 && r <= 0x6f9) return String(r - 0x6f0); // Extended Arabic-Indic, as Urdu keyboards type
  if (r >= 0xff10 && r <= 0xff19) return String(r - 0xff10); // full-width
  return '';
}

// isSeparator: punctuation people put between digit groups.
function isSeparator(r) {
  return r === 0x2d || r === 0x2e || r === 0x2f || r === 0x28 || r === 0x29 ||
    (r >= 0x2010 && r <= 0x2015) || r === 0x2212 || r === 0xfe63 || r === 0xff0d ||
    r === 0xff0e || r === 0xff0f || r === 0xff08 || r === 0xff09;
}

// isSpace is Go's unicode.IsSpace (JavaScript's \s differs: it lacks U+0085
// and has U+FEFF).
function isSpace(r) {
  return (r >= 0x09 && r <= 0x0d) || r === 0x20 || r === 0x85 || r === 0xa0 || r === 0x1680 ||
    (r >= 0x2000 && r <= 0x200a) || r === 0x2028 || r === 0x2029 || r === 0x202f ||
    r === 0x205f || r === 0x3000;
}

// isIgnorable: zero-width characters, the BOM, soft hyphens and
// bidirectional marks, which Urdu text puts around and inside numbers.
function isIgnorable(r) {
  return r === 0xad || r === 0x61c || r === 0x180e || r === 0xfeff ||
    (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) ||
    (r >= 0x2060 && r <= 0x2064) || (r >= 0x2066 && r <= 0x2069);
}

const QUOTES = '"\'`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2032\u2033\uff02\uff07';
const isQuote = (r) => QUOTES.includes(String.fromCharCode(r));
const isBlank = (r) => isSpace(r) || isIgnorable(r);
const isBlankOrQuote = (r) => isBlank(r) || isQuote(r);

// trimFunc drops leading and trailing UTF-16 units matching f: every
// character these predicates match is a single unit.
function trimFunc(s, f) {
  let i = 0;
  let j = s.length;
  while (i < j && f(s.charCodeAt(i))) i++;
  while (j > i && f(s.charCodeAt(j - 1))) j--;
  return s.slice(i, j);
}

// trim removes spaces, invisible characters, quotes, a spreadsheet's
// apostrophe and the ="…" of an Excel text formula, in any nesting.
function trim(s) {
  for (;;) {
    let t = trimFunc(s, isBlank);
    if (t.length > 1 && t[0] === '=' && isQuote(t.charCodeAt(1))) t = t.slice(1);
    t = trimFunc(t, isBlankOrQuote);
    if (t.length === s.length) return t;
    s = t;
  }
}

// cutKindPrefix splits a canonical-form prefix ("cnic:", "phone:", "imei:",
// "passport:", any ASCII case) off s, as Go's asciiEqualFold does.
const MAX_NAME_LEN = Math.max(...KINDS.map((k) => k.length));

function cutKindPrefix(s) {
  const i = s.indexOf(':');
  if (i < 1 || i > MAX_NAME_LEN) return null;
  const name = s.slice(0, i);
  if (!/^[\x00-\x7f]*$/.test(name)) return null;
  const kind = KINDS.find((k) => k === name.toLowerCase());
  return kind ? { kind, rest: s.slice(i + 1) } : null;
}

const isAsciiDigit = (c) => c >= 0x30 && c <= 0x39;

// isScientific: a spreadsheet's scientific notation, e.g. 3.52021E+12.
function isScientific(s) {
  let i = 0;
  if (s[i] === '+' || s[i] === '-') i++;
  let mant = 0;
  let point = false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isAsciiDigit(c)) mant++;
    else if ((c === 0x2e || c === 0x2c) && !point) point = true;
    else break;
  }
  if (mant === 0 || i === s.length || (s.charCodeAt(i) | 0x20) !== 0x65) return false;
  i++;
  if (s[i] === '+' || s[i] === '-') i++;
  let exp = 0;
  for (; i < s.length && isAsciiDigit(s.charCodeAt(i)); i++) exp++;
  return exp > 0 && i === s.length;
}

// isDecimal: ASCII digits, a point and one to three more digits, as a
// spreadsheet exports a number cell ("3001234567.0").
function isDecimal(s) {
  const i = s.indexOf('.');
  const frac = s.length - i - 1;
  if (i <= 0 || frac < 1 || frac > 3) return false;
  for (let j = 0; j < s.length; j++) {
    if (j !== i && !isAsciiDigit(s.charCodeAt(j))) return false;
  }
  return true;
}

// ---- Pakistani mobile numbers (identifier/phone.go) ----

function parsePhone(d, plus) {
  const nsn = fastNSN(d, plus);
  if (nsn !== null && nsn.length === 10 && nsn[0] === '3') {
    switch (numberType(nsn)) {
      case 'mobile': case 'fixed_line_or_mobile': return ok('phone', 'phone:+92' + nsn);
      case 'unknown': return fail('phone', 'unallocated'); // shaped like a mobile number, prefix unused
      default: return fail('phone', 'not_mobile');
    }
  }
  return parsePhoneSlow(d, plus);
}

// fastNSN cuts the national number out of 03X…, 3X…, 923X…, +923X… and
// 00923X…; null for another country's prefix.
function fastNSN(d, plus) {
  if (plus) return d.startsWith('92') ? d.slice(2) : null;
  if (d.startsWith('0092')) return d.slice(4);
  if (d.startsWith('00')) return null;
  if (d[0] === '0') return d.slice(1);
  if (d.length === 12 && d.startsWith('92')) return d.slice(2);
  return d;
}

function parsePhoneSlow(d, plus) {
  const num = parseNumber(d, plus);
  if (num.error === 'invalid_country_code' || (!num.error && num.countryCode !== PK.countryCode)) {
    return fail('phone', 'not_pakistani');
  }
  if (num.error) return fail('phone', 'bad_length'); // too short or too long to be any number
  const nsn = num.nsn;
  const mobileShape = nsn.length === 10 && nsn[0] === '3';
  const t = numberType(nsn);
  if (mobileShape && (t === 'mobile' || t === 'fixed_line_or_mobile')) return ok('phone', 'phone:+92' + nsn);
  if (mobileShape && t === 'unknown') return fail('phone', 'unallocated');
  if (nsn[0] === '3' && !mobileShape) return fail('phone', 'bad_length'); // a mobile number with a digit missing or extra
  return fail('phone', 'not_mobile');
}

// ---- libphonenumber (nyaruka/phonenumbers phonenumberutil.go) ----
// Only what ASCII digits with an optional leading '+' can reach, with PK as
// the default region.

const MIN_NSN = 2; // MIN_LENGTH_FOR_NSN
const MAX_NSN = 17; // MAX_LENGTH_FOR_NSN

const regexps = new Map();
function regexp(source) {
  let re = regexps.get(source);
  if (!re) {
    re = new RegExp(source);
    regexps.set(source, re);
  }
  return re;
}
const fullMatch = (pattern, s) => regexp('^(?:' + pattern + ')$').test(s);

// matchesDesc is isNumberMatchingDesc.
function matchesDesc(nsn, desc) {
  return (!desc.lengths || desc.lengths.includes(nsn.length)) && fullMatch(desc.pattern, nsn);
}

// numberType is getNumberTypeHelper for PK, the only region of +92.
function numberType(nsn) {
  if (!matchesDesc(nsn, PK.general)) return 'unknown';
  for (const desc of PK.types) {
    if (matchesDesc(nsn, desc)) return desc.type;
  }
  const mobile = matchesDesc(nsn, PK.mobile);
  if (matchesDesc(nsn, PK.fixedLine)) {
    return PK.sameMobileAndFixed || mobile ? 'fixed_line_or_mobile' : 'fixed_line';
  }
  return !PK.sameMobileAndFixed && mobile ? 'mobile' : 'unknown';
}

// testNumberLength for the general description (number type UNKNOWN).
function testNumberLength(n, region) {
  const lengths = region.general ? region.general.lengths : region.lengths;
  const local = (region.general ? region.general.local : region.local) || [];
  const len = n.length;
  if (lengths[0] === -1) return 'invalid_length';
  if (local.includes(len)) return 'is_possible_local_only';
  if (lengths[0] === len) return 'is_possible';
  if (lengths[0] > len) return 'too_short';
  if (lengths[lengths.length - 1] < len) return 'too_long';
  return lengths.includes(len) ? 'is_possible' : 'invalid_length';
}

// stripNationalPrefix is maybeStripNationalPrefixAndCarrierCode: the number
// without its national prefix, or null when none is stripped. For foreign
// regions the metadata leaves out the general pattern: it is needed only for
// numbers longer than any that pattern matches (gen/main.go checks).
function stripNationalPrefix(number, region) {
  if (number === '' || !region.nationalPrefix) return null;
  const re = regexp('^(?:' + region.nationalPrefix + ')');
  const m = re.exec(number);
  if (!m) return null;
  const valid = (s) => (region.general ? fullMatch(region.general.pattern, s) : false);
  const viableOriginal = valid(number);
  let out;
  if (!region.nationalTransform || m[m.length - 1] === undefined) {
    out = number.slice(m[0].length);
  } else {
    out = number.replace(re, region.nationalTransform);
  }
  return viableOriginal && !valid(out) ? null : out;
}

// extractCountryCode: the calling code that fullNumber starts with.
function extractCountryCode(full) {
  if (full === '' || full[0] === '0') return null;
  for (let i = 1; i <= 3 && i <= full.length; i++) {
    const cc = Number(full.slice(0, i));
    if (CALLING_CODES.includes(cc)) return { countryCode: cc, national: full.slice(i) };
  }
  return null;
}

// maybeExtractCountryCode with PK as the default region: {countryCode: 0}
// when the number has none, or {error}.
function maybeExtractCountryCode(number) {
  if (number === '') return { countryCode: 0 };
  let full = number;
  let international = false;
  if (number[0] === '+') {
    full = number.slice(1);
    international = true;
  } else {
    const m = regexp('^(?:' + PK.idd + ')').exec(number);
    // An IDD is stripped only if no 0 follows: calling codes never start with one.
    if (m && number[m[0].length] !== '0') {
      full = number.slice(m[0].length);
      international = true;
    }
  }
  if (international) {
    if (full.length <= MIN_NSN) return { error: 'too_short_after_idd' };
    return extractCountryCode(full) || { error: 'invalid_country_code' };
  }
  const cc = String(PK.countryCode);
  if (full.startsWith(cc)) {
    const rest = full.slice(cc.length);
    const national = stripNationalPrefix(rest, PK) ?? rest;
    const fullValid = fullMatch(PK.general.pattern, full);
    const nationalValid = fullMatch(PK.general.pattern, national);
    if ((!fullValid && nationalValid) || testNumberLength(full, PK) === 'too_long') {
      return { countryCode: PK.countryCode, national };
    }
  }
  return { countryCode: 0 };
}

// parseNumber is phonenumbers.Parse(("+" if plus) + d, "PK"): {countryCode,
// nsn} or {error}, 'invalid_country_code' being the one error that
// identifier tells apart.
function parseNumber(d, plus) {
  const number = (plus ? '+' : '') + d;
  // isViablePhoneNumber: two digits, or a plus and three.
  if (d.length < (plus ? 3 : MIN_NSN)) return { error: 'not_a_number' };
  let r = maybeExtractCountryCode(number);
  if (r.error === 'invalid_country_code' && plus) {
    r = maybeExtractCountryCode(d); // strip the plus and try again
    if (!r.error && r.countryCode === 0) return { error: 'invalid_country_code' };
  }
  if (r.error) return r;

  let { countryCode, national } = r;
  let region;
  if (countryCode === 0) {
    countryCode = PK.countryCode;
    national = d;
    region = PK;
  } else {
    region = countryCode === PK.countryCode ? PK : SHORT_CODE_PREFIXES[countryCode];
  }
  if (national.length < MIN_NSN) return { error: 'too_short_nsn' };
  if (region) {
    const stripped = stripNationalPrefix(national, region);
    if (stripped !== null) {
      const v = testNumberLength(stripped, region);
      if (v === 'is_possible' || v === 'too_long') national = stripped;
    }
  }
  if (national.length < MIN_NSN) return { error: 'too_short_nsn' };
  if (national.length > MAX_NSN) return { error: 'too_long' };
  return { countryCode, nsn: national };
}

// TEXT_PARSERS are the kinds whose values hold letters (identifier.Info's
// text and looks in Go), which the digit parser refuses.
const TEXT_PARSERS = {
  passport: { parse: parsePassport, looks: looksLikePassport },
};

const isAsciiLetter = (r) => (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a);

// parsePassport is identifier.parsePassport: two letters, seven digits.
function parsePassport(s) {
  let letters = '';
  let digits = '';
  let nl = 0;
  let nd = 0;
  for (const ch of s) {
    const r = ch.codePointAt(0);
    const d = digitOf(r);
    if (d !== '') {
      if (nd < 7 && nl === 2) digits += d;
      nd++;
    } else if (isAsciiLetter(r)) {
      if (nd > 0) return fail('passport', 'bad_character'); // letters after digits
      if (nl < 2) letters += ch.toUpperCase();
      nl++;
    } else if (isSeparator(r) || isSpace(r) || isIgnorable(r)) {
      // between groups
    } else {
      return fail('passport', 'bad_character');
    }
  }
  if (nl === 0 && nd === 0) return fail('passport', 'empty');
  if (nl !== 2 || nd !== 7) return fail('passport', 'bad_length');
  return ok('passport', 'passport:' + letters + digits);
}

// looksLikePassport is identifier.looksLikePassport: two letters then six
// to eight digits, and nothing else but separators.
function looksLikePassport(s) {
  let nl = 0;
  let nd = 0;
  for (const ch of s) {
    const r = ch.codePointAt(0);
    if (digitOf(r) !== '') nd++;
    else if (isAsciiLetter(r) && nd === 0) nl++;
    else if (!(isSeparator(r) || isSpace(r) || isIgnorable(r))) return false;
  }
  return nl === 2 && nd >= 6 && nd <= 8;
}
