package identifier

import (
	"errors"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// pkCallingCode is Pakistan's country calling code.
const pkCallingCode = 92

// parsePhone parses normalised digits as a Pakistani mobile number.
//
// Validity and type always come from libphonenumber's metadata, never from
// prefix tables of ours, so that newly allocated prefixes follow a library
// update. The common national and international forms take a fast path: the
// national significant number is cut out here, and its type is
// GetNumberType's for its first three digits (typeByPrefix). Everything
// else, such as foreign numbers or "+92 0300…", goes through
// phonenumbers.Parse.
func parsePhone(d []byte, plus bool) (ID, error) {
	if nsn := fastNSN(d, plus); len(nsn) == 10 && nsn[0] == '3' {
		switch typeByPrefix()[int(nsn[1]-'0')*10+int(nsn[2]-'0')] {
		case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
			return ID{kind: Phone, canon: "phone:+92" + string(nsn)}, nil
		case phonenumbers.UNKNOWN:
			return fail(Phone, ReasonUnallocated) // shaped like a mobile number, prefix unused
		default:
			return fail(Phone, ReasonNotMobile)
		}
	}
	return parsePhoneSlow(d, plus)
}

// typeByPrefix is phonenumbers.GetNumberType of the 10-digit national
// numbers 3XY0000000, for XY from 00 to 99. For a 10-digit national number
// beginning with 3, Pakistan's metadata decides the type by its first three
// digits alone: the mobile pattern is 3(?:[0-247]\d|3[0-79]|55|64)\d{7} and
// no other type's pattern begins with 3 (TestTypeByPrefix holds the
// library's metadata and answers to this, so an update that changes it
// fails the test). Asked once per prefix instead of per number, it saves
// libphonenumber's regular expressions, 3-4 µs of every mobile number an
// ingest parses.
var typeByPrefix = sync.OnceValue(func() (t [100]phonenumbers.PhoneNumberType) {
	for p := range t {
		t[p] = phonenumbers.GetNumberType(&phonenumbers.PhoneNumber{
			CountryCode:    proto.Int32(pkCallingCode),
			NationalNumber: proto.Uint64(3_000_000_000 + uint64(p)*10_000_000),
		})
	}
	return t
})

// fastNSN cuts the national significant number out of the usual forms:
// 03XXXXXXXXX, 3XXXXXXXXX, 923XXXXXXXXX, +923XXXXXXXXX and 00923XXXXXXXXX.
// It returns nil for another country's prefix. The caller checks the result.
func fastNSN(d []byte, plus bool) []byte {
	switch {
	case plus:
		if len(d) >= 2 && d[0] == '9' && d[1] == '2' {
			return d[2:]
		}
		return nil
	case len(d) >= 4 && d[0] == '0' && d[1] == '0' && d[2] == '9' && d[3] == '2':
		return d[4:]
	case len(d) >= 2 && d[0] == '0' && d[1] == '0':
		return nil
	case len(d) >= 1 && d[0] == '0':
		return d[1:]
	case len(d) == 12 && d[0] == '9' && d[1] == '2':
		return d[2:]
	}
	return d
}

// parsePhoneSlow lets phonenumbers.Parse, with Pakistan as the default
// region, make sense of the digits, and names the reason they are not a
// Pakistani mobile number.
func parsePhoneSlow(d []byte, plus bool) (ID, error) {
	s := string(d)
	if plus {
		s = "+" + s
	}
	num, err := phonenumbers.Parse(s, "PK")
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return fail(Phone, ReasonNotPakistani)
	case err != nil:
		return fail(Phone, ReasonLength) // too short or too long to be any number
	case num.GetCountryCode() != pkCallingCode:
		return fail(Phone, ReasonNotPakistani)
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	mobileShape := len(nsn) == 10 && nsn[0] == '3'
	switch t := phonenumbers.GetNumberType(num); {
	case mobileShape && (t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE):
		return ID{kind: Phone, canon: "phone:+92" + nsn}, nil
	case mobileShape && t == phonenumbers.UNKNOWN:
		return fail(Phone, ReasonUnallocated)
	case len(nsn) > 0 && nsn[0] == '3' && !mobileShape:
		return fail(Phone, ReasonLength) // a mobile number with a digit missing or extra
	}
	return fail(Phone, ReasonNotMobile)
}
