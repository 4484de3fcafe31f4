// Every string the page shows, in English and Urdu. Plain strings fill the
// elements marked data-i18n (build.mjs writes the English ones into
// index.html); functions take what varies. Latin digits are used in both
// languages, as on Pakistani SIM cards, CNICs and price lists. LTR snippets
// inside Urdu text sit between U+2066 and U+2069 (isolates) so that "*#06#"
// or "+92" is not reordered.

const L = (s) => '\u2066' + s + '\u2069';

const plural = (n, one, many) => (n === 1 ? one : many);

// perBucket is about how many of the 4.5×10⁸ possible mobile numbers share
// a bucket of bits bits, to two significant figures.
const perBucket = (bits) => {
  const x = 4.5e8 / Math.pow(2, bits);
  let scale = 1;
  while (x / scale >= 100) scale *= 10;
  return Math.round(x / scale) * scale;
};
const pointsToOne = (bits) => 4.5e8 / Math.pow(2, bits) < 2;

export const LANGS = ['en', 'ur'];

export const STRINGS = {
  en: {
    dir: 'ltr',
    doc_title: 'Khabardar: is my data being sold?',
    other_lang: 'اردو',
    other_lang_label: 'اردو میں پڑھیں (read in Urdu)',
    brand: 'Khabardar',
    title: 'Is my data being sold?',
    intro: 'Websites and WhatsApp groups sell Pakistanis’ data: a phone’s location, call records, travel history, copies of CNICs. Check whether your CNIC, mobile number or phone’s IMEI is in the sale listings we know of. What you type never leaves this phone: see below how.',
    linkage: 'Check one number at a time. One check cannot name you: the server learns only a bucket number that thousands share. But two checks from the same connection, even hours apart (say your CNIC and your mobile number), give it two bucket numbers that together can pick you out of a leaked list linking CNICs to SIMs.',
    choose_kind: 'What do you want to check?',
    choose_cnic: 'CNIC',
    choose_phone: 'Mobile number',
    choose_imei: 'IMEI',
    choose_passport: 'Passport',
    several_summary: 'Check more than one number together',
    several_warning: 'Checking several numbers together tells the server that they belong together. The bucket numbers of a CNIC and a mobile number, taken together, can pick one person out of a leaked list of 100 million CNIC–SIM pairs. Check them together only if you accept that.',
    check_together: 'Check together',
    label_cnic: 'CNIC number',
    hint_cnic: '13 digits, e.g. 35202-1234567-1',
    label_phone: 'Mobile number',
    hint_phone: 'e.g. 0300-1234567 or +92\u00a0300\u00a01234567',
    label_imei: 'Phone’s IMEI',
    hint_imei: '15 digits: dial *#06# to see it',
    label_passport: 'Passport number',
    hint_passport: '2 letters and 7 digits, as on the passport’s data page, e.g. AB1234567',
    check: 'Check',
    clear: 'Clear',
    privacy_title: 'How your privacy is protected',
    privacy_1: 'What you type stays on this phone. Before anything is sent, the page turns it into a blinded value: a random-looking number that only this page can undo.',
    privacy_2: 'The server applies its secret key to the blinded value and proves that it used its published key. The page checks the proof, then undoes the blinding.',
    privacy_3: 'The page then downloads one bucket of entries named by a short prefix of the result, its bucket number, a bucket shared by thousands of other possible numbers, and looks for a match itself. It downloads the whole list of listings every time, so the server cannot tell whether anything matched.',
    privacy_4: 'The server can learn that someone at your network address checked something, when, how many numbers, and their bucket numbers. From one check it cannot learn your CNIC, number or IMEI, nor whether it was found. Several checks from one address can be linked, as the note by the form explains.',
    privacy_6: 'This page, not the server, decides how precise the bucket number may be: if the server asks for more than 16 bits (a bucket shared by fewer than about 6,900 mobile numbers), the page refuses to check and sends nothing.',
    privacy_5: 'Nothing you type is stored: not in this browser, not in a cookie, not on the server. Only your choice of language is remembered on this phone. No analytics, no other websites.',
    key_title: 'The key this page verified',
    key_id_label: 'Key id',
    fingerprint_label: 'Public-key fingerprint',
    key_note: 'This page computed the fingerprint itself from the public key it checks every answer against. Compare it with the one the service’s operator publishes.',
    key_loading: 'Loading…',
    key_failed: 'The key could not be loaded yet; it will be loaded again when you check.',
    footer: 'Khabardar keeps no identifier, sets no cookie and uses no analytics.',

    need_one: 'Enter a CNIC, a mobile number or an IMEI.',
    need_value: { cnic: 'Enter a CNIC number.', phone: 'Enter a mobile number.', imei: 'Enter an IMEI.', passport: 'Enter a passport number.' },
    fix_errors: (n) => plural(n, 'Correct the marked entry. Nothing has been sent.', 'Correct the marked entries. Nothing has been sent.'),
    checking: 'Checking… on a slow connection this can take a few seconds.',
    checked: (found, total) => `Check complete: ${found} of ${total} found in listings.`,
    kind_title: { cnic: 'Your CNIC', phone: 'Your mobile number', imei: 'Your phone’s IMEI', passport: 'Your passport number' },
    found: (n) => plural(n, 'Found in a listing of data for sale', `Found in ${n} listings of data for sale`),
    not_found: 'Not found in the listings we know of',
    not_found_in: (n, date) => plural(n, 'Not in the 1 listing Khabardar knows of', `Not in any of the ${groupDigits(n)} listings Khabardar knows of`) + (date ? `, newest added ${date}.` : '.'),
    no_listings_title: 'No listings are loaded yet',
    no_listings: 'A check cannot tell you anything yet: Khabardar does not know of any data-for-sale listing, so nothing could be found and nothing is ruled out. Please check again later.',
    not_found_text: 'This only means it is not in the data-for-sale listings Khabardar has collected so far. It does not mean your data is safe: most sales are never seen by us, and new listings keep appearing. Check again from time to time, and never confirm your details to callers who quote them.',
    source: 'Where',
    first_seen: 'First seen',
    last_seen: 'Last seen',
    status: 'Status',
    verified: 'Verified by Khabardar',
    offered: 'Data offered and price asked',
    source_kind: { website: 'Website', whatsapp: 'WhatsApp group', telegram: 'Telegram channel', social: 'Social media page', other: 'Other' },
    status_name: { active: 'Still selling', taken_down: 'Taken down', unknown: 'Unknown' },
    category: {
      location: 'Your phone’s location', cdr: 'Call records (CDR)', travel: 'Foreign travel history',
      imei: 'Phone IMEI details', cnic_copy: 'Colour copy of the CNIC', sim_ownership: 'SIMs registered on the CNIC',
      family_tree: 'Family tree (family members’ details)', bank: 'Bank account details', other: 'Other data',
    },
    price: (n) => (n > 0 ? 'Rs ' + groupDigits(n) : 'no price given'),
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    date: (d, m, y, months) => `${d} ${months[m - 1]} ${y}`,
    advice_title: 'What to do now',
    advice_always: 'In every case',
    step: {
      sims_668: 'Send your CNIC number (13 digits, no dashes) by SMS to 668 to see how many SIMs are registered on it.',
      disown: 'If a SIM is not yours, go to a franchise of that mobile company with your CNIC and disown it with biometric (thumbprint) verification.',
      dirbs: 'Check your phone with PTA’s DIRBS: send the 15-digit IMEI (dial *#06# to see it) by SMS to 8484. If the phone was stolen or its IMEI is misused, have it blocked through DIRBS or your mobile company.',
      location: 'Anyone may be able to buy your phone’s location. If someone threatens you or seems to follow you, call the police on 15.',
      cdr_contacts: 'Your call records show whom you talk to. Warn the people you call often: fraudsters may contact them using your name.',
      travel: 'Callers posing as the FIA, immigration or an embassy may quote your trips. Officials do not ask for money or codes by phone: hang up.',
      cnic_misuse: 'A CNIC copy can be used to open accounts or take loans in your name. Tell your bank and mobile wallet, and watch for messages about accounts you did not open.',
      family: 'Your family’s details are offered too. Tell them: callers who know their names and relations may pretend to be from NADRA, a bank or the police.',
      bank: 'Call your bank on the number printed on your card, ask it to watch your account, and never share your PIN, password or a one-time code (OTP).',
      report_1799: 'Report it to the NCCIA cybercrime helpline, 1799. First take screenshots of the listing and of any calls or messages, and keep them.',
      refuse_calls: 'Expect calls and messages that quote your data to sound official. Confirm nothing, never share a code or send money: hang up and call the organisation back on its official number.',
    },
    reason: {
      empty: 'There are no digits in this entry.',
      scientific_notation: 'This is in scientific notation (like 3.52021E+12), which has lost digits. Type the whole number.',
      decimal_number: 'This looks like a decimal number (a point followed by one to three digits). Type the number without the point.',
      bad_character: 'Only digits, spaces and dashes are allowed here: remove letters and other signs.',
      bad_length: {
        cnic: 'A CNIC has 13 digits, like 35202-1234567-1.',
        phone: 'A Pakistani mobile number has 11 digits, like 0300-1234567.',
        imei: 'An IMEI has 15 digits (dial *#06# to see it).',
        passport: 'A Pakistani passport number has 2 letters and 7 digits, like AB1234567.',
      },
      bad_region: 'A CNIC cannot start with 0: check the first digit.',
      bad_check_digit: 'The last digit of this IMEI does not match the others, so a digit is mistyped. Dial *#06# to see the right number.',
      not_mobile: 'This is a Pakistani number but not a mobile number (perhaps a landline). Enter a mobile number starting with 03.',
      unallocated: 'No Pakistani mobile network uses this number’s first four digits (03xx). Check them.',
      not_pakistani: 'This is not a Pakistani number. Enter a number starting with 03 or +92.',
      unrecognised: 'This is not a CNIC, a mobile number or an IMEI.',
      kind_mismatch: 'This is labelled as another kind of number (it starts with cnic:, phone:, imei: or passport:). Check it as that kind.',
      ambiguous: 'This could be a CNIC or a mobile number: put it in the matching box.',
    },
    looks_like: { cnic: 'It looks like a CNIC: enter it in the CNIC box.', phone: 'It looks like a mobile number: enter it in the mobile number box.', imei: 'It looks like an IMEI: enter it in the IMEI box.', passport: 'It looks like a passport number: enter it in the passport box.' },
    looks_like_kind: { cnic: 'It looks like a CNIC: choose “CNIC” above.', phone: 'It looks like a mobile number: choose “Mobile number” above.', imei: 'It looks like an IMEI: choose “IMEI” above.', passport: 'It looks like a passport number: choose “Passport” above.' },
    error: {
      network: 'Could not reach the Khabardar server. Check your internet connection and try again.',
      timeout: 'The server took too long to answer; your connection may be slow. Try again.',
      rate_limited: (at, rel) => (at
        ? `Too many checks have come from your network recently. Try again after ${at} (in about ${rel}).`
        : 'Too many checks have come from your network recently. Try again later.'),
      unauthorized: 'The server refused the request. Reload the page and try again.',
      unavailable: 'The service is unavailable for a moment. Try again in a few minutes.',
      server: 'The server could not answer. Try again later.',
      key_rotated: 'The server’s key changed during the check. Reload the page and try again.',
      bad_proof: 'The server could not prove that it answered with its published key, so its answer was not trusted and nothing is shown. Try again later.',
      malformed: 'The server’s answer could not be read. Try again later.',
      suite: 'The server speaks another protocol than this page. Reload the page.',
      bucket_bits: (bits, max) => `This server asked for a ${bits}-bit bucket number, more than the ${max} bits this page accepts, so nothing was sent. ` +
        `The bucket number is what the server learns about what you check: at ${max} bits about ${groupDigits(perBucket(max))} mobile numbers share one, ` +
        (pointsToOne(bits) ? `but at ${bits} bits it could point to your number alone. ` : `but at ${bits} bits only about ${groupDigits(perBucket(bits))} would. `) +
        'The server may be set up wrongly or tampered with: do not use it, and tell the people who run it.',
    },
    duration: (n, unit) => `${n} ${{ s: plural(n, 'second', 'seconds'), m: plural(n, 'minute', 'minutes'), h: plural(n, 'hour', 'hours') }[unit]}`,

    // Flags of a listing that matched (the citizen page).
    not_found_genuine: 'Not found in any genuine listing',
    fabricated_title: (n) => plural(n, 'Also in a listing shown to be fabricated', `Also in ${n} listings shown to be fabricated`),
    fabricated_text: 'Khabardar found that this data is made up, so it is not counted as found. Such lists are still used to frighten and cheat people: confirm nothing to a caller who quotes them.',
    fabricated_badge: 'Fabricated: this listing’s data is fake',
    sensitive_note: 'Sensitive: being in this listing can itself say something about you. Think before sharing a screenshot of this result.',

    // The statistics page (stats.html), and the links between the pages.
    stats_link: 'Data for sale, in numbers',
    back_link: 'Check your CNIC, mobile number or IMEI',
    stats_doc_title: 'Khabardar: data for sale, in numbers',
    stats_title: 'Data for sale, in numbers',
    stats_intro: 'What the data-for-sale listings Khabardar knows of hold, and the prices they ask. Each entry is one CNIC, mobile number or IMEI in one listing: the same number in two listings counts twice. Listings shown to be fabricated are not counted.',
    stats_loading: 'Loading the figures…',
    stats_failed: 'The figures could not be loaded. Check your internet connection and try again later.',
    stats_rate_limited: (at, rel) => (at
      ? `Too many requests have come from your network recently. Try again after ${at} (in about ${rel}).`
      : 'Too many requests have come from your network recently. Try again later.'),
    stats_summary: (entries, listings) => `${groupDigits(entries)} ${plural(entries, 'entry', 'entries')} for sale in ${listings} ${plural(listings, 'listing', 'listings')}.`,
    stats_fabricated: (n, entries) => `Not counted: ${n} ${plural(n, 'listing', 'listings')} shown to be fabricated, with ${groupDigits(entries)} ${plural(entries, 'entry', 'entries')}.`,
    stats_empty: 'No listings have been added yet.',
    kinds_title: 'Entries for sale, by kind of identifier',
    kinds_desc: (rows) => 'Bar chart. ' + rows.map((r) => `${r.label}: ${groupDigits(r.value)}`).join('; ') + '.',
    kind_name: { cnic: 'CNIC', phone: 'Mobile number', imei: 'IMEI', passport: 'Passport number' },
    alerts_title: 'Tell me if this shows up in a new listing',
    alerts_intro: 'Khabardar can send you one SMS if a listing found later holds what you just checked. It keeps your number sealed and what you checked only as a code it cannot read back. Send STOP by SMS at any time to end it and delete everything.',
    alert_number_label: 'Your mobile number',
    alert_number_hint: 'We send a 6-digit code to it, to make sure it is yours.',
    alert_send: 'Send code',
    alert_code_label: 'The 6-digit code',
    alert_confirm: 'Start alerts',
    alert_code_sent: 'A code is on its way by SMS. Enter it within 10 minutes.',
    alert_done: (n) => `Alerts are on for ${n === 1 ? '1 identifier' : n + ' identifiers'}. You will get one SMS for each new listing that holds them. Send STOP by SMS to end alerts.`,
    alert_error: {
      invalid: 'This is not a Pakistani mobile number. Enter it like 0300-1234567.',
      rate_limited: (at, rel) => (at ? `Too many codes were asked for. Try again after ${at} (in about ${rel}).` : 'Too many codes were asked for. Try again later.'),
      unavailable: 'The SMS could not be sent now. Try again in a few minutes.',
      wrong_code: 'The code does not match. Check the SMS and try again.',
      code_gone: 'The code expired or was tried too often. Ask for a new one.',
      too_many_watches: 'This number already watches 5 identifiers, the most allowed. Send STOP by SMS to start again.',
      network: 'Could not reach the Khabardar server. Check your connection and try again.',
      timeout: 'The server took too long to answer. Try again.',
      server: 'The server could not answer. Try again later.',
      need_code: 'Enter the 6 digits of the code.',
    },
    prices_title: 'Prices asked, by kind of data',
    prices_desc: (rows) => 'For each kind of data, the lowest, median and highest price asked across the listings, on a scale that grows tenfold at each step. ' +
      rows.map((r) => `${r.label}: Rs ${groupDigits(r.min)} to ${groupDigits(r.max)}, median ${groupDigits(r.median)}`).join('; ') + '.',
    prices_none: 'No listing has given a price yet.',
    categories_title: 'What the listings offer',
    axis_rupees: 'Rupees',
    months_title: 'Listings, by the month first seen',
    months_desc: (rows) => 'Column chart, oldest month first. ' + rows.map((r) => `${r.label}: ${r.value}`).join('; ') + '.',
    month_year: (m, y, months) => `${months[m - 1]} ${y}`,
    listings_title: 'The listings',
    col: {
      kind: 'Identifier', entries: 'Entries', data: 'Data', listings: 'Listings', min: 'Lowest', median: 'Median',
      max: 'Highest', month: 'Month', listing: 'Listing', first_seen: 'First seen', flags: 'Flags',
    },
    flag: { verified: 'Verified', fabricated: 'Fabricated: not counted', sensitive: 'Sensitive' },
  },

  ur: {
    dir: 'rtl',
    doc_title: 'خبردار: کیا میرا ڈیٹا بیچا جا رہا ہے؟',
    other_lang: 'English',
    other_lang_label: 'Read in English (انگریزی میں پڑھیں)',
    brand: 'خبردار',
    title: 'کیا میرا ڈیٹا بیچا جا رہا ہے؟',
    intro: 'ویب سائٹیں اور واٹس ایپ گروپ پاکستانیوں کا ڈیٹا بیچ رہے ہیں: فون کی لوکیشن، کالوں کا ریکارڈ، سفر کی تفصیل، شناختی کارڈ کی کاپیاں۔ دیکھیں کہ آپ کا شناختی کارڈ نمبر، موبائل نمبر یا فون کا IMEI ہماری معلوم فروخت کی فہرستوں میں ہے یا نہیں۔ جو آپ لکھتے ہیں وہ اس فون سے باہر نہیں جاتا: کیسے، یہ نیچے پڑھیں۔',
    linkage: 'ایک وقت میں ایک ہی نمبر جانچیں۔ ایک جانچ سے آپ کی شناخت نہیں ہو سکتی: سرور کو صرف ایک ٹوکری نمبر معلوم ہوتا ہے جو ہزاروں نمبروں کا ہے۔ لیکن ایک ہی کنکشن سے دو جانچیں، چاہے گھنٹوں کے وقفے سے ہوں (مثلاً آپ کا شناختی کارڈ نمبر اور موبائل نمبر)، سرور کو دو ٹوکری نمبر دیتی ہیں جو مل کر آپ کو شناختی کارڈ اور سموں کی لیک شدہ فہرست میں پہچان سکتے ہیں۔',
    choose_kind: 'آپ کیا جانچنا چاہتے ہیں؟',
    choose_cnic: 'شناختی کارڈ',
    choose_phone: 'موبائل نمبر',
    choose_imei: 'IMEI',
    choose_passport: 'پاسپورٹ',
    several_summary: 'ایک سے زیادہ نمبر ایک ساتھ جانچیں',
    several_warning: 'کئی نمبر ایک ساتھ جانچنے سے سرور کو پتا چلتا ہے کہ یہ ایک ساتھ ہیں۔ شناختی کارڈ اور موبائل نمبر کے ٹوکری نمبر مل کر شناختی کارڈ اور سم کے 10 کروڑ جوڑوں کی لیک شدہ فہرست میں سے ایک شخص کو پہچان سکتے ہیں۔ انہیں ایک ساتھ صرف تب جانچیں جب آپ یہ خطرہ قبول کرتے ہوں۔',
    check_together: 'ایک ساتھ جانچیں',
    label_cnic: 'شناختی کارڈ نمبر (CNIC)',
    hint_cnic: '13 ہندسے، مثلاً ' + L('35202-1234567-1'),
    label_phone: 'موبائل نمبر',
    hint_phone: 'مثلاً ' + L('0300-1234567') + ' یا ' + L('+92\u00a0300\u00a01234567'),
    label_imei: 'فون کا IMEI نمبر',
    hint_imei: '15 ہندسے: دیکھنے کے لیے ' + L('*#06#') + ' ملائیں',
    label_passport: 'پاسپورٹ نمبر',
    hint_passport: 'پاسپورٹ کے ڈیٹا صفحے پر لکھے 2 حروف اور 7 ہندسے، مثلاً ' + L('AB1234567'),
    check: 'جانچیں',
    clear: 'مٹائیں',
    privacy_title: 'آپ کی رازداری کیسے محفوظ رہتی ہے',
    privacy_1: 'جو آپ لکھتے ہیں وہ اسی فون پر رہتا ہے۔ کچھ بھی بھیجنے سے پہلے یہ صفحہ اسے ایک چھپی ہوئی قدر میں بدل دیتا ہے: ایک بے ترتیب سا عدد جسے صرف یہی صفحہ واپس کھول سکتا ہے۔',
    privacy_2: 'سرور اس چھپی ہوئی قدر پر اپنی خفیہ کلید لگاتا ہے اور ثابت کرتا ہے کہ اس نے اپنی شائع کردہ کلید ہی استعمال کی۔ صفحہ اس ثبوت کی جانچ کرتا ہے، پھر پردہ ہٹاتا ہے۔',
    privacy_3: 'پھر صفحہ نتیجے کے ابتدائی چند حروف (ٹوکری نمبر) والی ایک ٹوکری (bucket) ڈاؤن لوڈ کرتا ہے، جو ہزاروں دوسرے ممکنہ نمبروں کی بھی ہے، اور میل خود تلاش کرتا ہے۔ یہ ہر بار تمام فہرستیں ڈاؤن لوڈ کرتا ہے، تاکہ سرور کو پتا نہ چلے کہ کچھ ملا یا نہیں۔',
    privacy_4: 'سرور یہ جان سکتا ہے کہ آپ کے نیٹ ورک ایڈریس سے کسی نے کب اور کتنے نمبر جانچے، اور ان کے ٹوکری نمبر۔ ایک جانچ سے وہ آپ کا شناختی کارڈ نمبر، موبائل نمبر یا IMEI نہیں جان سکتا، نہ یہ کہ وہ ملا یا نہیں۔ ایک ہی ایڈریس سے کی گئی کئی جانچیں آپس میں جوڑی جا سکتی ہیں، جیسا کہ فارم کے ساتھ لکھا ہے۔',
    privacy_6: 'ٹوکری نمبر کتنا باریک ہو، یہ سرور نہیں بلکہ یہ صفحہ طے کرتا ہے: اگر سرور 16 بِٹ سے زیادہ مانگے (یعنی ایسی ٹوکری جس میں تقریباً 6,900 سے کم موبائل نمبر ہوں) تو صفحہ جانچ سے انکار کر دیتا ہے اور کچھ نہیں بھیجتا۔',
    privacy_5: 'آپ کا لکھا کچھ بھی محفوظ نہیں کیا جاتا: نہ اس براؤزر میں، نہ کسی کوکی میں، نہ سرور پر۔ صرف آپ کی منتخب زبان اس فون پر یاد رکھی جاتی ہے۔ کوئی ٹریکنگ نہیں، کوئی دوسری ویب سائٹ نہیں۔',
    key_title: 'وہ کلید جس کی اس صفحے نے تصدیق کی',
    key_id_label: 'کلید کی شناخت (key id)',
    fingerprint_label: 'پبلک کلید کا فنگر پرنٹ',
    key_note: 'یہ فنگر پرنٹ اس صفحے نے خود اُس پبلک کلید سے نکالا ہے جس سے وہ ہر جواب کی جانچ کرتا ہے۔ اسے سروس چلانے والوں کے شائع کردہ فنگر پرنٹ سے ملا لیں۔',
    key_loading: 'لوڈ ہو رہا ہے…',
    key_failed: 'کلید ابھی لوڈ نہیں ہو سکی؛ جانچ کے وقت دوبارہ لوڈ کی جائے گی۔',
    footer: 'خبردار کوئی شناختی نمبر محفوظ نہیں کرتا، کوئی کوکی نہیں لگاتا اور کوئی ٹریکنگ استعمال نہیں کرتا۔',

    need_one: 'شناختی کارڈ نمبر، موبائل نمبر یا IMEI میں سے کم از کم ایک درج کریں۔',
    need_value: { cnic: 'شناختی کارڈ نمبر درج کریں۔', phone: 'موبائل نمبر درج کریں۔', imei: 'IMEI درج کریں۔', passport: 'پاسپورٹ نمبر درج کریں۔' },
    fix_errors: (n) => plural(n, 'نشان زدہ اندراج درست کریں۔ ابھی کچھ نہیں بھیجا گیا۔', 'نشان زدہ اندراجات درست کریں۔ ابھی کچھ نہیں بھیجا گیا۔'),
    checking: 'جانچ ہو رہی ہے… سست کنکشن پر چند سیکنڈ لگ سکتے ہیں۔',
    checked: (found, total) => `جانچ مکمل: ${total} میں سے ${found} فہرستوں میں ملے۔`,
    kind_title: { cnic: 'آپ کا شناختی کارڈ نمبر', phone: 'آپ کا موبائل نمبر', imei: 'آپ کے فون کا IMEI', passport: 'آپ کا پاسپورٹ نمبر' },
    found: (n) => plural(n, 'ڈیٹا کی فروخت کی ایک فہرست میں موجود ہے', `ڈیٹا کی فروخت کی ${n} فہرستوں میں موجود ہے`),
    not_found: 'ہماری معلوم فہرستوں میں نہیں ملا',
    not_found_in: (n, date) => plural(n, 'خبردار کی معلوم واحد فہرست میں نہیں', `خبردار کی معلوم ${groupDigits(n)} فہرستوں میں سے کسی میں نہیں`) + (date ? `، تازہ ترین ${date} کو شامل ہوئی۔` : '۔'),
    no_listings_title: 'ابھی کوئی فہرست لوڈ نہیں ہوئی',
    no_listings: 'ابھی جانچ سے کچھ معلوم نہیں ہو سکتا: خبردار کے پاس ڈیٹا کی فروخت کی کوئی فہرست نہیں، اس لیے نہ کچھ مل سکتا ہے نہ کسی بات کی نفی ہوتی ہے۔ براہِ کرم بعد میں دوبارہ جانچیں۔',
    not_found_text: 'اس کا مطلب صرف یہ ہے کہ یہ اُن فروخت کی فہرستوں میں نہیں جو خبردار نے اب تک جمع کی ہیں۔ اس کا مطلب یہ نہیں کہ آپ کا ڈیٹا محفوظ ہے: زیادہ تر فروخت ہماری نظر میں نہیں آتی اور نئی فہرستیں آتی رہتی ہیں۔ وقتاً فوقتاً دوبارہ جانچیں، اور آپ کی تفصیل بتانے والے کالرز کے سامنے کسی بات کی تصدیق نہ کریں۔',
    source: 'کہاں',
    first_seen: 'پہلی بار دیکھی گئی',
    last_seen: 'آخری بار دیکھی گئی',
    status: 'صورتحال',
    verified: 'خبردار سے تصدیق شدہ',
    offered: 'پیش کردہ ڈیٹا اور مانگی گئی قیمت',
    source_kind: { website: 'ویب سائٹ', whatsapp: 'واٹس ایپ گروپ', telegram: 'ٹیلی گرام چینل', social: 'سوشل میڈیا پیج', other: 'دیگر' },
    status_name: { active: 'ابھی بھی فروخت جاری ہے', taken_down: 'ہٹا دی گئی', unknown: 'معلوم نہیں' },
    category: {
      location: 'آپ کے فون کی لوکیشن', cdr: 'کالوں کا ریکارڈ (CDR)', travel: 'بیرونِ ملک سفر کی تفصیل',
      imei: 'فون کے IMEI کی تفصیل', cnic_copy: 'شناختی کارڈ کی رنگین کاپی', sim_ownership: 'شناختی کارڈ پر رجسٹرڈ سمیں',
      family_tree: 'خاندانی شجرہ (گھر والوں کی تفصیل)', bank: 'بینک اکاؤنٹ کی تفصیل', other: 'دیگر ڈیٹا',
    },
    price: (n) => (n > 0 ? groupDigits(n) + ' روپے' : 'قیمت درج نہیں'),
    months: ['جنوری', 'فروری', 'مارچ', 'اپریل', 'مئی', 'جون', 'جولائی', 'اگست', 'ستمبر', 'اکتوبر', 'نومبر', 'دسمبر'],
    date: (d, m, y, months) => `${d} ${months[m - 1]} ${y}`,
    advice_title: 'اب کیا کریں',
    advice_always: 'ہر صورت میں',
    step: {
      sims_668: 'اپنا شناختی کارڈ نمبر (13 ہندسے، ڈیش کے بغیر) 668 پر SMS کریں اور دیکھیں کہ اس پر کتنی سمیں رجسٹرڈ ہیں۔',
      disown: 'اگر کوئی سم آپ کی نہیں تو شناختی کارڈ لے کر اُس موبائل کمپنی کی فرنچائز جائیں اور بائیومیٹرک (انگوٹھے کی) تصدیق سے اسے اپنے نام سے ختم کروائیں۔',
      dirbs: 'پی ٹی اے کے DIRBS سے اپنا فون چیک کریں: 15 ہندسوں کا IMEI (دیکھنے کے لیے ' + L('*#06#') + ' ملائیں) 8484 پر SMS کریں۔ اگر فون چوری ہوا ہو یا اس کے IMEI کا غلط استعمال ہو رہا ہو تو DIRBS یا اپنی موبائل کمپنی کے ذریعے اسے بلاک کروائیں۔',
      location: 'کوئی بھی آپ کے فون کی لوکیشن خرید سکتا ہے۔ اگر کوئی آپ کو دھمکائے یا آپ کا پیچھا کرتا لگے تو 15 پر پولیس کو کال کریں۔',
      cdr_contacts: 'کالوں کے ریکارڈ سے پتا چلتا ہے کہ آپ کس سے بات کرتے ہیں۔ جن سے آپ اکثر بات کرتے ہیں انہیں خبردار کریں: دھوکے باز آپ کا نام لے کر ان سے رابطہ کر سکتے ہیں۔',
      travel: 'FIA، امیگریشن یا سفارت خانے کے نام پر کال کرنے والے آپ کے سفر کی تفصیل بتا سکتے ہیں۔ سرکاری اہلکار فون پر پیسے یا کوڈ نہیں مانگتے: فون بند کر دیں۔',
      cnic_misuse: 'شناختی کارڈ کی کاپی سے آپ کے نام پر اکاؤنٹ کھولا یا قرض لیا جا سکتا ہے۔ اپنے بینک اور موبائل والیٹ کو بتائیں، اور ایسے اکاؤنٹس کے پیغامات پر نظر رکھیں جو آپ نے نہیں کھولے۔',
      family: 'آپ کے گھر والوں کی تفصیل بھی بیچی جا رہی ہے۔ انہیں بتائیں: ان کے نام اور رشتے جاننے والے کالر خود کو نادرا، بینک یا پولیس کا ظاہر کر سکتے ہیں۔',
      bank: 'اپنے کارڈ پر لکھے نمبر پر بینک کو کال کریں، اکاؤنٹ پر نظر رکھنے کا کہیں، اور اپنا PIN، پاس ورڈ یا OTP کوڈ کبھی کسی کو نہ بتائیں۔',
      report_1799: 'این سی سی آئی اے (NCCIA) کی سائبر کرائم ہیلپ لائن 1799 پر رپورٹ کریں۔ پہلے فہرست اور کالوں یا پیغامات کے اسکرین شاٹ لے کر محفوظ رکھیں۔',
      refuse_calls: 'ایسی کالوں اور پیغامات کی توقع رکھیں جو آپ کا ڈیٹا بتا کر سرکاری لگیں۔ کسی بات کی تصدیق نہ کریں، کوئی کوڈ نہ بتائیں، پیسے نہ بھیجیں: فون بند کریں اور ادارے کے سرکاری نمبر پر خود کال کریں۔',
    },
    reason: {
      empty: 'اس اندراج میں کوئی ہندسہ نہیں۔',
      scientific_notation: 'یہ سائنسی انداز (جیسے ' + L('3.52021E+12') + ') میں لکھا ہے جس میں ہندسے ضائع ہو چکے ہیں۔ پورا نمبر لکھیں۔',
      decimal_number: 'یہ اعشاری عدد لگتا ہے (نقطے کے بعد ایک سے تین ہندسے)۔ نمبر نقطے کے بغیر لکھیں۔',
      bad_character: 'یہاں صرف ہندسے، خالی جگہ اور ڈیش لکھے جا سکتے ہیں: حروف اور دوسری علامتیں ہٹا دیں۔',
      bad_length: {
        cnic: 'شناختی کارڈ نمبر میں 13 ہندسے ہوتے ہیں، جیسے ' + L('35202-1234567-1') + '۔',
        phone: 'پاکستانی موبائل نمبر میں 11 ہندسے ہوتے ہیں، جیسے ' + L('0300-1234567') + '۔',
        imei: 'IMEI میں 15 ہندسے ہوتے ہیں (دیکھنے کے لیے ' + L('*#06#') + ' ملائیں)۔',
        passport: 'پاکستانی پاسپورٹ نمبر میں 2 حروف اور 7 ہندسے ہوتے ہیں، جیسے ' + L('AB1234567') + '۔',
      },
      bad_region: 'شناختی کارڈ نمبر 0 سے شروع نہیں ہوتا: پہلا ہندسہ دیکھیں۔',
      bad_check_digit: 'اس IMEI کا آخری ہندسہ باقی ہندسوں سے میل نہیں کھاتا، یعنی کوئی ہندسہ غلط لکھا گیا ہے۔ درست نمبر دیکھنے کے لیے ' + L('*#06#') + ' ملائیں۔',
      not_mobile: 'یہ پاکستانی نمبر ہے مگر موبائل نمبر نہیں (شاید لینڈ لائن)۔ 03 سے شروع ہونے والا موبائل نمبر درج کریں۔',
      unallocated: 'کوئی پاکستانی موبائل نیٹ ورک اس نمبر کے پہلے چار ہندسے (03xx) استعمال نہیں کرتا۔ انہیں دوبارہ دیکھیں۔',
      not_pakistani: 'یہ پاکستانی نمبر نہیں۔ 03 یا ' + L('+92') + ' سے شروع ہونے والا نمبر درج کریں۔',
      unrecognised: 'یہ نہ شناختی کارڈ نمبر ہے، نہ موبائل نمبر، نہ IMEI۔',
      kind_mismatch: 'اس پر کسی اور قسم کے نمبر کا لیبل لگا ہے (یہ ' + L('cnic:') + '، ' + L('phone:') + '، ' + L('imei:') + ' یا ' + L('passport:') + ' سے شروع ہوتا ہے)۔ اسے اسی قسم کے نمبر کے طور پر جانچیں۔',
      ambiguous: 'یہ شناختی کارڈ نمبر بھی ہو سکتا ہے اور موبائل نمبر بھی: اسے متعلقہ خانے میں لکھیں۔',
    },
    looks_like: { cnic: 'یہ شناختی کارڈ نمبر لگتا ہے: اسے شناختی کارڈ کے خانے میں لکھیں۔', phone: 'یہ موبائل نمبر لگتا ہے: اسے موبائل نمبر کے خانے میں لکھیں۔', imei: 'یہ IMEI لگتا ہے: اسے IMEI کے خانے میں لکھیں۔', passport: 'یہ پاسپورٹ نمبر لگتا ہے: اسے پاسپورٹ کے خانے میں لکھیں۔' },
    looks_like_kind: { cnic: 'یہ شناختی کارڈ نمبر لگتا ہے: اوپر “شناختی کارڈ” چنیں۔', phone: 'یہ موبائل نمبر لگتا ہے: اوپر “موبائل نمبر” چنیں۔', imei: 'یہ IMEI لگتا ہے: اوپر “IMEI” چنیں۔', passport: 'یہ پاسپورٹ نمبر لگتا ہے: اوپر “پاسپورٹ” چنیں۔' },
    error: {
      network: 'خبردار کے سرور سے رابطہ نہیں ہو سکا۔ اپنا انٹرنیٹ کنکشن دیکھیں اور دوبارہ کوشش کریں۔',
      timeout: 'سرور نے جواب دینے میں بہت دیر لگائی؛ شاید آپ کا کنکشن سست ہے۔ دوبارہ کوشش کریں۔',
      rate_limited: (at, rel) => (at
        ? `آپ کے نیٹ ورک سے حال ہی میں بہت زیادہ جانچیں ہوئی ہیں۔ ${L(at)} کے بعد دوبارہ کوشش کریں (تقریباً ${rel} بعد)۔`
        : 'آپ کے نیٹ ورک سے حال ہی میں بہت زیادہ جانچیں ہوئی ہیں۔ کچھ دیر بعد دوبارہ کوشش کریں۔'),
      unauthorized: 'سرور نے درخواست رد کر دی۔ صفحہ دوبارہ لوڈ کر کے کوشش کریں۔',
      unavailable: 'سروس تھوڑی دیر کے لیے دستیاب نہیں۔ چند منٹ بعد دوبارہ کوشش کریں۔',
      server: 'سرور جواب نہیں دے سکا۔ کچھ دیر بعد دوبارہ کوشش کریں۔',
      key_rotated: 'جانچ کے دوران سرور کی کلید بدل گئی۔ صفحہ دوبارہ لوڈ کر کے کوشش کریں۔',
      bad_proof: 'سرور یہ ثابت نہیں کر سکا کہ اس نے اپنی شائع کردہ کلید سے جواب دیا، اس لیے اس کے جواب پر بھروسا نہیں کیا گیا اور کچھ نہیں دکھایا گیا۔ کچھ دیر بعد دوبارہ کوشش کریں۔',
      malformed: 'سرور کا جواب پڑھا نہیں جا سکا۔ کچھ دیر بعد دوبارہ کوشش کریں۔',
      suite: 'سرور اس صفحے سے مختلف طریقہ استعمال کرتا ہے۔ صفحہ دوبارہ لوڈ کریں۔',
      bucket_bits: (bits, max) => `اس سرور نے ${bits} بِٹ کا ٹوکری نمبر مانگا، جو اس صفحے کی حد (${max} بِٹ) سے زیادہ ہے، اس لیے کچھ نہیں بھیجا گیا۔ ` +
        `ٹوکری نمبر ہی وہ چیز ہے جو سرور آپ کی جانچ کے بارے میں جانتا ہے: ${max} بِٹ پر تقریباً ${groupDigits(perBucket(max))} موبائل نمبر ایک ٹوکری میں ہوتے ہیں، ` +
        (pointsToOne(bits) ? `مگر ${bits} بِٹ پر یہ صرف آپ کے نمبر کی نشاندہی کر سکتا ہے۔ ` : `مگر ${bits} بِٹ پر صرف تقریباً ${groupDigits(perBucket(bits))}۔ `) +
        'ہو سکتا ہے سرور غلط ترتیب دیا گیا ہو یا اس میں چھیڑ چھاڑ کی گئی ہو: اسے استعمال نہ کریں اور اسے چلانے والوں کو بتائیں۔',
    },
    duration: (n, unit) => `${n} ${{ s: 'سیکنڈ', m: 'منٹ', h: 'گھنٹے' }[unit]}`,

    not_found_genuine: 'کسی اصل فہرست میں نہیں ملا',
    fabricated_title: (n) => plural(n, 'جعلی ثابت ہونے والی ایک فہرست میں بھی موجود ہے', `جعلی ثابت ہونے والی ${n} فہرستوں میں بھی موجود ہے`),
    fabricated_text: 'خبردار کو معلوم ہوا ہے کہ یہ ڈیٹا من گھڑت ہے، اس لیے اسے ملا ہوا شمار نہیں کیا گیا۔ ایسی فہرستیں پھر بھی لوگوں کو ڈرانے اور دھوکا دینے کے لیے استعمال ہوتی ہیں: ان کا حوالہ دینے والے کالر کے سامنے کسی بات کی تصدیق نہ کریں۔',
    fabricated_badge: 'جعلی: اس فہرست کا ڈیٹا من گھڑت ہے',
    sensitive_note: 'حساس: اس فہرست میں ہونا خود آپ کے بارے میں کچھ بتا سکتا ہے۔ اس نتیجے کا اسکرین شاٹ کسی کو بھیجنے سے پہلے سوچ لیں۔',

    stats_link: 'بکنے والا ڈیٹا، اعداد و شمار میں',
    back_link: 'اپنا شناختی کارڈ نمبر، موبائل نمبر یا IMEI جانچیں',
    stats_doc_title: 'خبردار: بکنے والا ڈیٹا، اعداد و شمار میں',
    stats_title: 'بکنے والا ڈیٹا، اعداد و شمار میں',
    stats_intro: 'خبردار کی معلوم فروخت کی فہرستوں میں کیا ہے اور وہ کیا قیمت مانگتی ہیں۔ ہر اندراج ایک فہرست میں ایک شناختی کارڈ نمبر، موبائل نمبر یا IMEI ہے: ایک ہی نمبر دو فہرستوں میں ہو تو دو بار گنا جاتا ہے۔ جو فہرستیں جعلی ثابت ہوئیں وہ شمار نہیں کی گئیں۔',
    stats_loading: 'اعداد و شمار لوڈ ہو رہے ہیں…',
    stats_failed: 'اعداد و شمار لوڈ نہیں ہو سکے۔ اپنا انٹرنیٹ کنکشن دیکھیں اور کچھ دیر بعد دوبارہ کوشش کریں۔',
    stats_rate_limited: (at, rel) => (at
      ? `آپ کے نیٹ ورک سے حال ہی میں بہت زیادہ درخواستیں آئی ہیں۔ ${L(at)} کے بعد دوبارہ کوشش کریں (تقریباً ${rel} بعد)۔`
      : 'آپ کے نیٹ ورک سے حال ہی میں بہت زیادہ درخواستیں آئی ہیں۔ کچھ دیر بعد دوبارہ کوشش کریں۔'),
    stats_summary: (entries, listings) => `${listings} ${plural(listings, 'فہرست', 'فہرستوں')} میں ${groupDigits(entries)} ${plural(entries, 'اندراج', 'اندراجات')} فروخت کے لیے ہیں۔`,
    stats_fabricated: (n, entries) => `شمار نہیں کی گئیں: جعلی ثابت ہونے والی ${n} ${plural(n, 'فہرست', 'فہرستیں')}، جن میں ${groupDigits(entries)} ${plural(entries, 'اندراج', 'اندراجات')} ہیں۔`,
    stats_empty: 'ابھی کوئی فہرست شامل نہیں کی گئی۔',
    kinds_title: 'فروخت کے لیے اندراجات، شناخت کی قسم کے لحاظ سے',
    kinds_desc: (rows) => 'بار چارٹ۔ ' + rows.map((r) => `${r.label}: ${groupDigits(r.value)}`).join('؛ ') + '۔',
    kind_name: { cnic: 'شناختی کارڈ', phone: 'موبائل نمبر', imei: 'IMEI', passport: 'پاسپورٹ نمبر' },
    alerts_title: 'اگر یہ کسی نئے اشتہار میں آئے تو مجھے بتائیں',
    alerts_intro: 'اگر بعد میں کسی اشتہار میں وہ ملا جو آپ نے ابھی چیک کیا تو خبردار آپ کو ایک SMS بھیجے گا۔ آپ کا نمبر بند (انکرپٹ) رکھا جاتا ہے اور جو چیک کیا وہ صرف ایسے کوڈ کی صورت میں جسے واپس پڑھا نہیں جا سکتا۔ کسی بھی وقت STOP کا SMS بھیج کر بند کریں اور سب مٹا دیں۔',
    alert_number_label: 'آپ کا موبائل نمبر',
    alert_number_hint: 'تصدیق کے لیے اس پر 6 ہندسوں کا کوڈ بھیجا جائے گا۔',
    alert_send: 'کوڈ بھیجیں',
    alert_code_label: '6 ہندسوں کا کوڈ',
    alert_confirm: 'الرٹ شروع کریں',
    alert_code_sent: 'کوڈ SMS سے آ رہا ہے۔ 10 منٹ کے اندر لکھیں۔',
    alert_done: (n) => `${n} چیزوں کے الرٹ فعال ہیں۔ ہر نئے اشتہار پر ایک SMS آئے گا۔ بند کرنے کے لیے STOP کا SMS بھیجیں۔`,
    alert_error: {
      invalid: 'یہ پاکستانی موبائل نمبر نہیں۔ یوں لکھیں: ' + L('0300-1234567'),
      rate_limited: (at, rel) => (at ? `بہت زیادہ کوڈ مانگے گئے۔ ${at} کے بعد (تقریباً ${rel} میں) کوشش کریں۔` : 'بہت زیادہ کوڈ مانگے گئے۔ بعد میں کوشش کریں۔'),
      unavailable: 'ابھی SMS نہیں بھیجا جا سکا۔ چند منٹ بعد کوشش کریں۔',
      wrong_code: 'کوڈ درست نہیں۔ SMS دیکھ کر دوبارہ لکھیں۔',
      code_gone: 'کوڈ کی مدت ختم ہو گئی یا بہت بار غلط لکھا گیا۔ نیا کوڈ منگوائیں۔',
      too_many_watches: 'یہ نمبر پہلے ہی 5 چیزیں دیکھ رہا ہے، حد پوری ہے۔ دوبارہ شروع کرنے کے لیے STOP بھیجیں۔',
      network: 'خبردار کے سرور سے رابطہ نہیں ہو سکا۔ کنکشن دیکھ کر دوبارہ کوشش کریں۔',
      timeout: 'سرور نے جواب میں بہت دیر لگائی۔ دوبارہ کوشش کریں۔',
      server: 'سرور جواب نہ دے سکا۔ بعد میں کوشش کریں۔',
      need_code: 'کوڈ کے 6 ہندسے لکھیں۔',
    },
    prices_title: 'مانگی گئی قیمتیں، ڈیٹا کی قسم کے لحاظ سے',
    prices_desc: (rows) => 'ہر قسم کے ڈیٹا کے لیے فہرستوں میں مانگی گئی کم سے کم، درمیانی اور زیادہ سے زیادہ قیمت، ایسے پیمانے پر جو ہر قدم پر دس گنا بڑھتا ہے۔ ' +
      rows.map((r) => `${r.label}: ${groupDigits(r.min)} سے ${groupDigits(r.max)} روپے، درمیانی ${groupDigits(r.median)}`).join('؛ ') + '۔',
    prices_none: 'ابھی کسی فہرست نے قیمت نہیں بتائی۔',
    categories_title: 'فہرستیں کیا بیچتی ہیں',
    axis_rupees: 'روپے',
    months_title: 'فہرستیں، پہلی بار دیکھے جانے کے مہینے کے لحاظ سے',
    months_desc: (rows) => 'کالم چارٹ، پرانا مہینہ پہلے۔ ' + rows.map((r) => `${r.label}: ${r.value}`).join('؛ ') + '۔',
    month_year: (m, y, months) => `${months[m - 1]} ${y}`,
    listings_title: 'فہرستیں',
    col: {
      kind: 'شناخت', entries: 'اندراجات', data: 'ڈیٹا', listings: 'فہرستیں', min: 'کم سے کم', median: 'درمیانی',
      max: 'زیادہ سے زیادہ', month: 'مہینہ', listing: 'فہرست', first_seen: 'پہلی بار دیکھی گئی', flags: 'نشانات',
    },
    flag: { verified: 'تصدیق شدہ', fabricated: 'جعلی: شمار نہیں', sensitive: 'حساس' },
  },
};

// groupDigits writes 3500 as 3,500.
export function groupDigits(n) {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// pickLang chooses the page's language: a remembered choice, else the
// first of the browser's languages that is English or Urdu.
export function pickLang(saved, languages) {
  if (LANGS.includes(saved)) return saved;
  for (const l of languages || []) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

// formatDate writes "YYYY-MM-DD" as "6 October 2024"; anything else as is.
export function formatDate(lang, s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  if (!m || +m[2] < 1 || +m[2] > 12) return s || '';
  const t = STRINGS[lang];
  return t.date(+m[3], +m[2], m[1], t.months);
}

// formatMonth writes "YYYY-MM" as "October 2024"; anything else as is.
export function formatMonth(lang, s) {
  const m = /^(\d{4})-(\d{2})$/.exec(s || '');
  if (!m || +m[2] < 1 || +m[2] > 12) return s || '';
  const t = STRINGS[lang];
  return t.month_year(+m[2], m[1], t.months);
}

// formatRetry returns the local clock time to retry at and how long that
// is from now, for the rate-limit message.
export function formatRetry(lang, at, now = Date.now()) {
  const t = STRINGS[lang];
  const secs = Math.max(1, Math.ceil((at.getTime() - now) / 1000));
  const rel = secs < 60 ? t.duration(secs, 's')
    : secs < 5400 ? t.duration(Math.ceil(secs / 60), 'm')
    : t.duration(Math.round(secs / 3600), 'h');
  const pad = (n) => String(n).padStart(2, '0');
  return { at: `${pad(at.getHours())}:${pad(at.getMinutes())}`, rel };
}
