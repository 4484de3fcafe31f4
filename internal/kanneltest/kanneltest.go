// Package kanneltest runs a real Kannel for tests: Debian's bearerbox and
// smsbox, with /usr/lib/kannel/test/fakesmsc as the operator's SMSC, on free
// loopback ports, from a generated configuration.
//
//	phone (SendMO) ──fakesmsc──▶ bearerbox ──▶ smsbox ──get-url──▶ the service under test
//	phone (MT) ◀──fakesmsc──── bearerbox ◀── smsbox ◀──reply, or sendsms (alerts)
//
// The configuration keeps numbers and texts out of Kannel's logs, as an
// operator's should: smsbox logs each message's sender and text at info
// level, so it logs warnings and up (log-level = 2, -v 2), and bearerbox's
// access log has an access-log-format without %p, %P, %a or %b. (smsbox
// still logs the get-url, number and text in it, when it cannot reach
// the service at all: a test that makes it so scans no Kannel logs.)
//
// bearerbox's fake SMSC serves one connection at a time, and fakesmsc sends
// only the messages on its command line. So each SendMO starts a fakesmsc
// that sends that one message and stays connected, the phone, after
// stopping the one before; mobile-terminated messages (replies, alerts) are
// read from whichever is connected and arrive on MT. bearerbox holds an MT
// while no fakesmsc is connected.
package kanneltest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/khabardar/khabardar/internal/prereq"
)

// Where Debian's kannel and kannel-extras put the programs.
var (
	Bearerbox = "/usr/sbin/bearerbox"
	Smsbox    = "/usr/sbin/smsbox"
	Fakesmsc  = "/usr/lib/kannel/test/fakesmsc"
)

// ShortCode is what the phone sends to and what messages come from.
const ShortCode = "8484"

// EnvRequire, set to 1, makes a missing Kannel a failure even under
// KHABARDAR_ALLOW_SKIP=1.
const EnvRequire = "KHABARDAR_REQUIRE_KANNEL"

// Config is what a test's Kannel needs.
type Config struct {
	// GetURL is the sms-service's get-url, with Kannel's escapes: %p the
	// sender, %a the text, %I the message ID.
	GetURL string
	// SendUser and SendPassword make a sendsms-user (alerts send through
	// it); empty: none.
	SendUser, SendPassword string
	// Retries is smsbox's http-request-retry: how many times it requests
	// the get-url again (after 1 s, the same %I) when the service fails or
	// cannot be reached; 0, Kannel's default, sends the phone its
	// reply-couldnotfetch text at once.
	Retries int
}

// Kannel is a running bearerbox, smsbox and phone.
type Kannel struct {
	t                  testing.TB
	dir                string
	adminPort, boxPort int
	smscPort, sendPort int
	cfg                Config

	mu       sync.Mutex
	phone    *exec.Cmd // the connected fakesmsc
	mt       chan Message
	received []Message // every MT, in order
	procs    []*exec.Cmd

	bearerbox *exec.Cmd
	bbExited  chan struct{}
}

// Message is a mobile-terminated SMS as fakesmsc received it.
type Message struct {
	From, To string
	Coding   string // "text" (GSM 7-bit) or "ucs-2"
	Text     string // decoded
}

// New reserves Kannel's loopback ports, so that SendURL is known before
// the service under test starts; Start then runs it.
func New(t testing.TB) *Kannel {
	t.Helper()
	for _, p := range []string{Bearerbox, Smsbox, Fakesmsc} {
		if _, err := os.Stat(p); err != nil {
			prereq.Missing(t, EnvRequire, "Kannel is not installed ("+p+")", "apt-get install -y kannel kannel-extras")
		}
	}
	k := &Kannel{t: t, dir: t.TempDir(), mt: make(chan Message, 64)}
	ports := freePorts(t, 4)
	k.adminPort, k.boxPort, k.smscPort, k.sendPort = ports[0], ports[1], ports[2], ports[3]
	t.Cleanup(k.stop)
	return k
}

// Start is New and Start in one, for a test whose service's URL is known
// before Kannel's.
func Start(t testing.TB, cfg Config) *Kannel {
	t.Helper()
	k := New(t)
	k.Start(cfg)
	return k
}

// Start runs bearerbox, the phone and smsbox; every process is killed when
// the test ends.
func (k *Kannel) Start(cfg Config) {
	k.t.Helper()
	k.cfg = cfg
	conf := filepath.Join(k.dir, "kannel.conf")
	// A port reserved by New may be taken by another test before
	// bearerbox binds it (it then exits): try again on fresh ports. The
	// sendsms port stays, as the service under test already has it.
	for attempt := 1; ; attempt++ {
		if err := os.WriteFile(conf, []byte(k.config(k.adminPort, k.boxPort)), 0o600); err != nil {
			k.t.Fatal(err)
		}
		bb := k.start(Bearerbox, "-v", "1", conf)
		exited := make(chan struct{})
		go func() { bb.Wait(); close(exited) }()
		k.mu.Lock()
		k.procs = k.procs[:len(k.procs)-1] // waited for here, not by stop
		k.bearerbox, k.bbExited = bb, exited
		k.mu.Unlock()
		if listening(k.adminPort, exited) {
			break
		}
		syscall.Kill(-bb.Process.Pid, syscall.SIGKILL)
		<-exited
		if attempt == 3 {
			log, _ := os.ReadFile(filepath.Join(k.dir, "bearerbox.log"))
			k.t.Fatalf("kanneltest: bearerbox did not start in 3 attempts; its log ends:\n%s", tail(log, 2000))
		}
		ports := freePorts(k.t, 3)
		k.adminPort, k.boxPort, k.smscPort = ports[0], ports[1], ports[2]
	}
	k.SendMO("", "", "") // the phone connects before smsbox, as in Kannel's own checks
	k.start(Smsbox, "-v", "2", conf)
	k.ready()
}

// ready waits until bearerbox reports smsbox connected to it and the phone
// online, and smsbox's sendsms port answers HTTP: a listening port alone
// has been seen to refuse the first request of a test.
func (k *Kannel) ready() {
	k.t.Helper()
	waitPort(k.t, k.sendPort, "smsbox")
	status := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=kanneltest", k.adminPort)
	probe := fmt.Sprintf("http://127.0.0.1:%d/", k.sendPort)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for {
		if resp, err := client.Get(status); err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			last = string(b)
			if strings.Contains(last, "smsbox:") && strings.Contains(last, "(online") {
				if resp, err := client.Get(probe); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					return
				}
			}
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("kanneltest: smsbox and the phone were not both connected to bearerbox within 15 s; its status:\n%s", tail([]byte(last), 1500))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (k *Kannel) config(admin, box int) string {
	retry := ""
	if k.cfg.Retries > 0 {
		retry = fmt.Sprintf("http-request-retry = %d\nhttp-queue-delay = 1\n", k.cfg.Retries)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `group = core
admin-port = %d
admin-password = "kanneltest"
smsbox-port = %d
box-allow-ip = "127.0.0.1"
log-level = 1
log-file = %q
access-log = %q
access-log-format = "%%l [SMSC:%%i] [SVC:%%n] [coding:%%c] [length:%%L]"

group = smsc
smsc = fake
smsc-id = phone
port = %d
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = %d
global-sender = %q
log-level = 2
log-file = %q
%s
group = sms-service
keyword = default
catch-all = true
get-url = %q
accept-x-kannel-headers = true
max-messages = 1
concatenation = true
omit-empty = true
`, admin, box, filepath.Join(k.dir, "bearerbox.log"), filepath.Join(k.dir, "access.log"), k.smscPort, k.sendPort,
		ShortCode, filepath.Join(k.dir, "smsbox.log"), retry, k.cfg.GetURL)
	if k.cfg.SendUser != "" {
		fmt.Fprintf(&b, `
group = sendsms-user
username = %q
password = %q
max-messages = 1
concatenation = true
`, k.cfg.SendUser, k.cfg.SendPassword)
	}
	return b.String()
}

// SendURL is smsbox's sendsms interface, for KHABARDAR_KANNEL_SENDSMS_URL.
func (k *Kannel) SendURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", k.sendPort)
}

func (k *Kannel) start(name string, args ...string) *exec.Cmd {
	k.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = k.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log, err := os.Create(filepath.Join(k.dir, filepath.Base(name)+fmt.Sprintf("-%d.out", time.Now().UnixNano())))
	if err != nil {
		k.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	k.mu.Lock()
	k.procs = append(k.procs, cmd)
	k.mu.Unlock()
	return cmd
}

// SendMO sends an SMS from the phone number from to the short code to: a
// new fakesmsc that sends it and then stays connected as the phone. With
// from empty it only connects.
func (k *Kannel) SendMO(from, to, text string) {
	k.t.Helper()
	k.mu.Lock()
	old := k.phone
	k.mu.Unlock()
	if old != nil {
		old.Process.Signal(syscall.SIGTERM)
		old.Wait()
	}
	max, msg := "1", from+" "+to+" text "+text
	if from == "" {
		max, msg = "0", "0 0 text connect"
	}
	cmd := exec.Command(Fakesmsc, "-H", "127.0.0.1", "-r", fmt.Sprint(k.smscPort), "-i", "0.01", "-m", max, msg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		k.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	k.mu.Lock()
	k.phone = cmd
	k.procs = append(k.procs, cmd)
	k.mu.Unlock()
	go k.read(out)
}

// gotRE is fakesmsc's line for a received message: "Got message N: <from
// to type data>".
var gotRE = regexp.MustCompile(`Got message \d+: <(\S+) (\S+) (\S+) (.*)>\s*$`)

func (k *Kannel) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := gotRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		msg := Message{From: m[1], To: m[2], Coding: m[3]}
		switch m[3] {
		case "ucs-2":
			msg.Text = decodeUCS2(m[4])
		default:
			msg.Text, _ = url.QueryUnescape(m[4])
			if msg.Text == "" {
				msg.Text = m[4]
			}
		}
		k.mu.Lock()
		k.received = append(k.received, msg)
		k.mu.Unlock()
		select {
		case k.mt <- msg:
		default:
		}
	}
}

// decodeUCS2 turns fakesmsc's URL-encoded UTF-16BE into a string.
func decodeUCS2(s string) string {
	raw, err := url.QueryUnescape(s) // '+' is a space byte
	if err != nil {
		return s
	}
	b := []byte(raw)
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// MT returns the next message the phone receives, or fails t after
// timeout.
func (k *Kannel) MT(timeout time.Duration) Message {
	k.t.Helper()
	select {
	case m := <-k.mt:
		return m
	case <-time.After(timeout):
		k.t.Fatalf("kanneltest: no message reached the phone within %v", timeout)
		return Message{}
	}
}

// Received returns every message the phone has received so far.
func (k *Kannel) Received() []Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Message(nil), k.received...)
}

// StopSmsbox kills smsbox (its sendsms port goes down, as when the
// operator's gateway fails); StartSmsbox runs it again.
func (k *Kannel) StopSmsbox() {
	k.t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, p := range k.procs {
		if p.Path == Smsbox && p.ProcessState == nil {
			syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			p.Wait()
		}
	}
}

// StartSmsbox runs smsbox again after StopSmsbox.
func (k *Kannel) StartSmsbox() {
	k.t.Helper()
	k.start(Smsbox, "-v", "2", filepath.Join(k.dir, "kannel.conf"))
	k.ready()
}

// NoMT fails t if a message reaches the phone within d.
func (k *Kannel) NoMT(d time.Duration) {
	k.t.Helper()
	select {
	case m := <-k.mt:
		k.t.Fatalf("kanneltest: an unexpected message reached the phone (%s, %d characters)", m.Coding, len([]rune(m.Text)))
	case <-time.After(d):
	}
}

// Logs returns what bearerbox and smsbox logged, to their log files, the
// access log and their output, for privacy scans.
func (k *Kannel) Logs() []byte {
	files := []string{"bearerbox.log", "smsbox.log", "access.log"}
	out, _ := filepath.Glob(filepath.Join(k.dir, "*.out"))
	var all []byte
	for _, f := range append(files, out...) {
		b, _ := os.ReadFile(filepath.Join(k.dir, filepath.Base(f)))
		all = append(all, b...)
	}
	return all
}

func (k *Kannel) stop() {
	k.mu.Lock()
	procs := k.procs
	bb, exited := k.bearerbox, k.bbExited
	k.mu.Unlock()
	defer func() {
		if bb != nil {
			syscall.Kill(-bb.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.Process != nil {
			syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			p.Wait()
		}
	}
}

// freePorts returns n ports that can be bound now, below Linux's default
// ephemeral range (32768–60999): a port there, freed, may be taken at once
// by any outgoing connection of a test (a Redis client's, say) before
// Kannel binds it, while nothing takes a port below it unasked.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			t.Fatal("kanneltest: no free port below the ephemeral range")
		}
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, port)
	}
	return ports
}

// listening waits up to 15 s for port to accept, or for exited to close.
func listening(port int, exited <-chan struct{}) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func waitPort(t testing.TB, port int, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kanneltest: %s did not listen on %d within 15 s", what, port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
