package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/khabardar/khabardar/adminsock"
	"github.com/khabardar/khabardar/internal/fixture"
	"github.com/khabardar/khabardar/internal/redistest"
)

// sentinel is an identifier planted in ingested files, with its canonical form.
type sentinel struct{ typed, canonical string }

var sentinelIMEI = "49015420323751"

var sentinels = []sentinel{
	{"42101-9876543-1", "cnic:4210198765431"},
	{"0321-7654321", "phone:+923217654321"},
	{"+92 312 5550199", "phone:+923125550199"},
	{sentinelIMEI + fmt.Sprint(fixture.Luhn(sentinelIMEI)), "imei:" + sentinelIMEI},
	{"۳۵۲۰۱-۱۱۲۲۳۳۴-۵", "cnic:3520111223345"},
	{"3331234567", "phone:+923331234567"}, // a dropped leading zero
	{"qr-4455667", "passport:QR4455667"},  // the fourth kind, letters and all
}

// forms returns every form of a sentinel the scan looks for: as typed, its
// digits, the canonical string and its parts, and SHA-1 and SHA-256 of each
// in hex and raw.
func (s sentinel) forms() map[string][]byte {
	value := s.canonical[strings.IndexByte(s.canonical, ':')+1:]
	digits := strings.TrimPrefix(value, "+")
	texts := map[string]string{
		"typed":     s.typed,
		"digits":    asciiDigits(s.typed),
		"canonical": s.canonical,
		"value":     value,
		"e164":      digits,
	}
	if strings.HasPrefix(digits, "92") {
		texts["national"] = "0" + digits[2:]
	}
	out := map[string][]byte{}
	for name, t := range texts {
		out[name] = []byte(t)
		s1, s256 := sha1.Sum([]byte(t)), sha256.Sum256([]byte(t))
		out["sha1("+name+")"] = s1[:]
		out["sha256("+name+")"] = s256[:]
		out["sha1hex("+name+")"] = []byte(hex.EncodeToString(s1[:]))
		out["sha256hex("+name+")"] = []byte(hex.EncodeToString(s256[:]))
	}
	return out
}

func asciiDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + r - '۰')
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + r - '٠')
		}
	}
	return b.String()
}

// scan fails the test for every form of every sentinel found in data.
func scan(t *testing.T, where string, data []byte) {
	t.Helper()
	for _, s := range sentinels {
		for form, needle := range s.forms() {
			if bytes.Contains(data, needle) {
				t.Errorf("%s holds the %s form of a sentinel identifier", where, form)
			}
		}
	}
}

// TestPrivacy ingests sentinel identifiers from every file format, serves
// lookups, then scans the store (iterated), its raw files, everything the
// commands printed and the temp directory: zero hits.
func TestPrivacy(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) { checkPrivacy(t, c, false) })
	// The commands through a running server's admin socket: its logs too.
	t.Run("embedded through serve", func(t *testing.T) { checkPrivacy(t, newCLI(t, ""), true) })
}

func checkPrivacy(t *testing.T, c *cli, serving bool) {
	var srv *served
	if serving {
		c.ok("keys", "init")
		srv = startServe(t, c)
	}
	{
		c.addListing("sentinels")
		s := sentinels
		files := []string{
			c.write("leak.csv", "name,cnic,mobile,imei\n"+
				fmt.Sprintf("a,%s,%s,%s\n", s[0].typed, s[1].typed, s[3].typed)+
				fmt.Sprintf("b,%s,%s,\n", s[4].typed, s[2].typed)+
				fmt.Sprintf("c,,%s,\n", s[5].typed)+
				"d,3.52021E+12,0421234567,352099001761482\n"), // rejects too
			c.write("leak.jsonl", fmt.Sprintf(`{"cnic":%q,"msisdn":%s}`+"\n", s[0].typed, asciiDigits(s[1].typed)[1:])+ // a number: its leading 0 dropped
				`{"cnic": "not json`+"\n"),
			c.write("chat.txt", fmt.Sprintf("[12/10/2025, 9:14 pm] Seller: location Rs 500 for %s, CNIC %s ✅ passport %s\n", s[2].typed, s[4].typed, s[6].typed)),
			writeXLSX(t, filepath.Join(c.dir, "leak.xlsx"), [][]string{{"CNIC", "Mobile"}, {s[0].typed, s[5].typed}, {s[4].typed, s[1].typed}}),
		}
		sum := c.ingest("sentinels", files...)
		if sum.ListingCounts != (counts{CNIC: 2, Phone: 3, IMEI: 1, Passport: 1}) {
			t.Fatalf("ingest found %+v, want 2 CNICs, 3 phones, 1 IMEI, 1 passport", sum.ListingCounts)
		}
		c.ok("listings", "list")
		c.ok("listings", "list", "--json")
		c.ok("ingest", "--listing", "sentinels", files[0]) // the human summary too
		if srv != nil {
			if _, err := os.Stat(adminsock.SocketPath(c.data)); err != nil {
				t.Fatalf("no admin socket while serving: %v", err)
			}
			scan(t, "serve's logs", []byte(srv.stop(t)))
		}

		// Every file the commands wrote, byte for byte.
		filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || isInput(p, files) {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			scan(t, "file "+p, b)
			if strings.HasSuffix(p, ".db") {
				scanBolt(t, p)
			}
			return nil
		})
		if redisURL := storeURL(c); redisURL != "" {
			for k, v := range redistest.Dump(t, redisURL) {
				scan(t, "redis key name", []byte(k))
				scan(t, "redis value of "+k, v)
			}
		}
		scan(t, "command output", c.output.Bytes())
		if entries, _ := os.ReadDir(c.tmp); len(entries) != 0 {
			t.Errorf("commands left %d files in TMPDIR", len(entries))
		}
		// The scan must be able to fail: the inputs hold every sentinel.
		var all []byte
		for _, f := range files[:3] {
			b, _ := os.ReadFile(f)
			all = append(all, b...)
		}
		for _, s := range sentinels {
			if !bytes.Contains(all, []byte(s.typed)) {
				t.Fatalf("self-check: the inputs lack a sentinel")
			}
		}
	}
}

func isInput(p string, files []string) bool {
	for _, f := range files {
		if p == f || strings.HasSuffix(p, ".yaml") {
			return true
		}
	}
	return false
}

func storeURL(c *cli) string {
	for _, e := range c.env {
		if v, ok := strings.CutPrefix(e, "KHABARDAR_REDIS_URL="); ok {
			return v
		}
	}
	return ""
}

// scanBolt iterates every bucket, key and value of a bbolt file: the raw
// file scan alone would miss a value stored compressed or split across pages.
func scanBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	var walk func(b *bolt.Bucket, where string)
	walk = func(b *bolt.Bucket, where string) {
		b.ForEach(func(k, v []byte) error {
			scan(t, "bolt key in "+where, k)
			if v == nil {
				walk(b.Bucket(k), where+"/"+string(k))
				return nil
			}
			scan(t, "bolt value in "+where, v)
			return nil
		})
	}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			scan(t, "bolt bucket name", name)
			walk(b, string(name))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeXLSX writes a minimal one-sheet workbook with inline strings.
func writeXLSX(t *testing.T, path string, rows [][]string) string {
	t.Helper()
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, row := range rows {
		fmt.Fprintf(&sheet, `<row r="%d">`, i+1)
		for j, v := range row {
			fmt.Fprintf(&sheet, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+j, i+1, v)
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	parts := map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":   sheet.String(),
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, content := range parts {
		w, _ := zw.Create(name)
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}
