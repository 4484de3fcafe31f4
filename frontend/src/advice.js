// What a person should do when an identifier is found, by the kind of data
// offered. Step texts are in i18n.js (STRINGS[lang].step).

// CATEGORIES is khabardar.CategoryNames: the order advice is given in.
export const CATEGORIES = ['location', 'cdr', 'travel', 'imei', 'cnic_copy', 'sim_ownership', 'family_tree', 'bank', 'other'];

const BY_CATEGORY = {
  location: ['location'],
  cdr: ['cdr_contacts'],
  travel: ['travel'],
  imei: ['dirbs'],
  cnic_copy: ['sims_668', 'disown', 'cnic_misuse'],
  sim_ownership: ['sims_668', 'disown'],
  family_tree: ['family'],
  bank: ['bank'],
  other: [],
};

// What the identifier itself calls for, whatever is offered: a leaked CNIC
// is how SIMs get registered in someone's name; a leaked IMEI is a device's.
const BY_KIND = { cnic: ['sims_668', 'disown'], phone: [], imei: ['dirbs'], passport: [] };

const ALWAYS = ['report_1799', 'refuse_calls'];

// adviceFor returns, for the identifiers found ({kind, listings}), the steps
// for each category offered ({category, steps}, in CATEGORIES order; an
// unknown category counts as "other"), then the steps for every case that
// no category already gave.
export function adviceFor(found) {
  const offered = new Set();
  const kindSteps = [];
  for (const r of found) {
    kindSteps.push(...(BY_KIND[r.kind] || []));
    for (const l of r.listings) {
      for (const c of l.categories || []) offered.add(CATEGORIES.includes(c.category) ? c.category : 'other');
    }
  }
  const byCategory = CATEGORIES.filter((c) => offered.has(c)).map((category) => ({ category, steps: BY_CATEGORY[category] }));
  const given = new Set(byCategory.flatMap((c) => c.steps));
  const always = [...new Set([...kindSteps, ...ALWAYS])].filter((s) => !given.has(s));
  return { byCategory, always };
}
