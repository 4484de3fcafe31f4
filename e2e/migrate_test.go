package e2e

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/khabardar/khabardar/storetest"
)

// format1 is a store written by the code before record formats
// (storetest/testdata/format1/README.md says how).
const format1 = "../storetest/testdata/format1"

// TestMigrateFormat1Store takes a store written by the format 1 code,
// checks that today's commands refuse it with advice until `khabardar
// migrate` has run, then that every identifier is found in exactly the
// listings it was ingested into, with exact counts.
func TestMigrateFormat1Store(t *testing.T) {
	c := newCLI(t, "")
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"khabardar.db", "key.json"} {
		b, err := os.ReadFile(filepath.Join(format1, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.data, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"listings", "list"}, {"serve", "--addr", "127.0.0.1:0"}} {
		_, errs, code := c.run(args...)
		if code != 1 || !strings.Contains(errs, "format 1") || !strings.Contains(errs, "khabardar migrate") {
			t.Errorf("khabardar %s on a format 1 store: exit %d, %q; want 1 and advice to migrate", args[0], code, errs)
		}
	}
	if out := c.ok("migrate"); !strings.Contains(out, "from record format 1 to 2") {
		t.Errorf("migrate said %q", out)
	}
	if out := c.ok("migrate"); !strings.Contains(out, "already in record format 2") {
		t.Errorf("a second migrate said %q", out)
	}
	var ls []struct {
		ID     string
		Counts map[string]int64
	}
	if err := json.Unmarshal([]byte(c.ok("listings", "list", "--json")), &ls); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{
		"fixture-group-b": {"cnic": 30, "phone": 30, "imei": 0},
		"fixture-shop-a":  {"cnic": 40, "phone": 40, "imei": 40},
	}
	if len(ls) != len(want) {
		t.Fatalf("%d listings after migration, want %d", len(ls), len(want))
	}
	for _, l := range ls {
		for k, n := range want[l.ID] {
			if l.Counts[k] != n {
				t.Errorf("listing %s: %s count %d, want %d", l.ID, k, l.Counts[k], n)
			}
		}
	}

	// Every identifier, in the listings its file went into.
	in := map[string][]string{}
	for file, listing := range map[string]string{"a.csv": "fixture-shop-a", "b.csv": "fixture-group-b"} {
		f, err := os.Open(filepath.Join(format1, file))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			for i, v := range row {
				in[rows[0][i]+":"+v] = append(in[rows[0][i]+":"+v], listing)
			}
		}
	}
	values := make([]string, 0, len(in))
	for v := range in {
		values = append(values, strings.Replace(strings.Replace(v, "mobile:", "phone:", 1), "cnic:", "cnic:", 1))
	}
	slices.Sort(values)
	srv := startServe(t, c, "--rate-evaluate", "1000000-H", "--rate-bucket", "1000000-H", "--rate-reserve-evaluate", "1000000-H")
	out, errs, code := c.runWithInput(strings.Join(values, "\n")+"\n", "check", "--server", srv.base, "--json", "-")
	if code != 0 {
		t.Fatalf("check: exit %d: %s", code, errs)
	}
	var r struct {
		Results []struct {
			Position int
			Status   string
			Listings []struct{ ID string }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != len(values) {
		t.Fatalf("%d results for %d values", len(r.Results), len(values))
	}
	for i, res := range r.Results {
		v := values[i]
		key := strings.Replace(v, "phone:", "mobile:", 1)
		var got []string
		for _, l := range res.Listings {
			got = append(got, l.ID)
		}
		w := slices.Clone(in[key])
		slices.Sort(w)
		slices.Sort(got)
		if res.Status != "found" || !slices.Equal(got, w) {
			t.Errorf("value %d (a %s): %s in %v, want found in %v", i, strings.SplitN(v, ":", 2)[0], res.Status, got, w)
		}
	}
	srv.stop(t)
}

// TestMigrateKilled SIGKILLs `khabardar migrate` as soon as it reports
// progress, on a format 1 store on each backend, runs it again, and checks
// exact counts and that identifiers are found.
func TestMigrateKilled(t *testing.T) {
	stores(t, func(t *testing.T, c *cli) {
		c.ok("keys", "init")
		c.addListing("big-shop")
		var b strings.Builder
		b.WriteString("cnic\n")
		const n = 20000
		for i := range n {
			fmt.Fprintf(&b, "35%011d\n", i*7919+1)
		}
		c.ingest("big-shop", c.write("big.csv", b.String()))
		downgradeStore(t, c)

		cmd := exec.Command(binPath, "migrate")
		cmd.Dir, cmd.Env = c.dir, c.env
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "migrating") {
				cmd.Process.Kill() // SIGKILL
				break
			}
		}
		cmd.Wait()
		if _, errs, code := c.run("listings", "list"); code == 0 {
			t.Log("the migration finished before SIGKILL landed")
		} else if !strings.Contains(errs, "khabardar migrate") {
			t.Fatalf("after SIGKILL: %s", errs)
		}
		if out := c.ok("migrate"); !strings.Contains(out, "record format") {
			t.Errorf("migrate again said %q", out)
		}
		var ls []struct{ Counts map[string]int64 }
		json.Unmarshal([]byte(c.ok("listings", "list", "--json")), &ls)
		if len(ls) != 1 || ls[0].Counts["cnic"] != n {
			t.Fatalf("after the resumed migration: %+v, want one listing of %d CNICs", ls, n)
		}
		srv := startServe(t, c)
		for _, i := range []int{0, 1, n / 2, n - 1} {
			v := fmt.Sprintf("35%011d", i*7919+1)
			out, _, code := c.run("check", "--server", srv.base, "--json", v)
			if code != 0 || !strings.Contains(out, `"status":"found"`) && !strings.Contains(out, `"status": "found"`) {
				t.Errorf("identifier %d after migration: exit %d %s", i, code, out)
			}
		}
		srv.stop(t)
	})
}

// downgradeStore turns c's store into one the format 1 code wrote.
func downgradeStore(t *testing.T, c *cli) {
	t.Helper()
	for _, kv := range c.env {
		if u, ok := strings.CutPrefix(kv, "KHABARDAR_REDIS_URL="); ok {
			storetest.DowngradeRedis(t, u)
			return
		}
	}
	storetest.DowngradeBolt(t, filepath.Join(c.data, "khabardar.db"))
}
