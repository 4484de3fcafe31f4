package identifier

import (
	"errors"

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
// national significant number is cut out here and handed to GetNumberType,
// which costs about a third of phonenumbers.Parse. Everything else, such as
// foreign numbers or "+92 0300…", goes through phonenumbers.Parse.
func parsePhone(d []byte, plus bool) (ID, error) {
	if nsn := fastNSN(d, plus); len(nsn) == 10 && nsn[0] == '3' {
		var n uint64
		for _, c := range nsn {
			n = n*10 + uint64(c-'0')
		}
		num := &phonenumbers.PhoneNumber{
			CountryCode:    proto.Int32(pkCallingCode),
			NationalNumber: proto.Uint64(n),
		}
		switch phonenumbers.GetNumberType(num) {
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
