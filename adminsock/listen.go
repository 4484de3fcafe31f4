package adminsock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/khabardar/khabardar"
)

// SocketName is the admin socket's file name in a data directory.
const SocketName = "admin.sock"

// SocketPath is the admin socket of the data directory dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

// maxPathLen is the longest socket path Listen and Dial accept: sun_path
// holds 108 bytes on Linux and 104 on the BSDs and macOS, and Listen binds
// first in a temporary directory beside the socket whose path is a few bytes
// longer (tempPrefix, ten digits, "/s").
const maxPathLen = 104

// tempPrefix names Listen's temporary directories in the data directory;
// tempOverhead is the most their socket's path adds to the directory's.
const (
	tempPrefix   = ".admsock"
	tempOverhead = len("/" + tempPrefix + "4294967295" + "/s")
)

// probeTimeout bounds Listen's and Dial's connection attempt: a server that
// accepts nothing in that time is taken for absent by Listen only when the
// lock says nobody holds it.
const probeTimeout = 2 * time.Second

// Listener is the admin socket, listening. Close stops it, removes the
// socket file (if it is still the one Listen made) and releases the lock.
type Listener struct {
	net.Listener
	path string
	made os.FileInfo // the socket as Listen left it, to recognise it at Close
	lock *os.File    // nil where there is no flock

	closeOnce sync.Once
	closeErr  error
}

// Listen opens the admin socket at path (SocketPath of the data directory),
// mode 0600, for one server:
//
//   - It takes an exclusive lock on path+".lock" for the listener's life.
//     If another process holds it, or a server answers on path anyway, it
//     fails with ECONFLICT ("another khabardar serve is using <dir>").
//   - A socket file nobody answers on (left by a killed server) is stale and
//     is removed; any other kind of file at path is refused (EINVALID), never
//     deleted.
//   - The socket is bound in a new 0700 directory beside path, made 0600,
//     and renamed into place, so that it is never reachable with the umask's
//     looser mode: chmod after a bind at path would leave a window in which
//     anyone the umask lets in could connect.
func Listen(path string) (*Listener, error) {
	dir := filepath.Dir(path)
	if len(dir)+tempOverhead > maxPathLen {
		return nil, khabardar.Errorf(khabardar.EINVALID,
			"the data directory %s is too long a path for its admin socket (at most %d bytes); use a shorter one",
			dir, maxPathLen-tempOverhead)
	}
	lock, err := lockFile(path + ".lock")
	if errors.Is(err, errBusy) {
		return nil, conflict(dir)
	}
	if err != nil {
		return nil, unavailable(fmt.Sprintf("cannot lock the admin socket %s", path), err)
	}
	l, err := listenLocked(path, dir)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	l.lock = lock
	return l, nil
}

func conflict(dir string) error {
	return khabardar.Errorf(khabardar.ECONFLICT, "another khabardar serve is using %s", dir)
}

func listenLocked(path, dir string) (*Listener, error) {
	switch fi, err := os.Lstat(path); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, unavailable(fmt.Sprintf("cannot read the admin socket %s", path), err)
	case fi.Mode().Type() != os.ModeSocket:
		return nil, khabardar.Errorf(khabardar.EINVALID, "%s exists and is not a socket; move it away", path)
	default:
		if live(path) {
			return nil, conflict(dir)
		}
		// Stale: its server died without removing it. We hold the lock, so
		// no other Listen is between its probe and its rename.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, unavailable(fmt.Sprintf("cannot remove the stale admin socket %s", path), err)
		}
	}

	tmp, err := os.MkdirTemp(dir, tempPrefix) // 0700: nobody else can reach what is in it
	if err != nil {
		return nil, unavailable(fmt.Sprintf("cannot create the admin socket in %s", dir), err)
	}
	defer os.RemoveAll(tmp)
	tmpPath := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpPath, Net: "unix"})
	if err != nil {
		return nil, unavailable(fmt.Sprintf("cannot create the admin socket %s", path), err)
	}
	ln.SetUnlinkOnClose(false) // it is renamed; Close removes it under its final name
	fail := func(what string, err error) (*Listener, error) {
		ln.Close()
		return nil, unavailable(fmt.Sprintf("cannot %s the admin socket %s", what, path), err)
	}
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return fail("restrict", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return fail("place", err)
	}
	made, err := os.Lstat(path)
	if err != nil {
		return fail("check", err)
	}
	return &Listener{Listener: ln, path: path, made: made}, nil
}

// live reports whether a server accepts connections on path.
func live(path string) bool {
	c, err := net.DialTimeout("unix", path, probeTimeout)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Path is the socket's path.
func (l *Listener) Path() string { return l.path }

// Addr is the socket's address under its final name (the bound name was
// the temporary one).
func (l *Listener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Close stops listening, removes the socket file if it is still the one
// Listen made, and releases the lock. Closing twice does nothing more.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = l.Listener.Close()
		if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.made) {
			if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) && l.closeErr == nil {
				l.closeErr = err
			}
		}
		if l.lock != nil {
			l.lock.Close() // after the removal: the next server may start now
		}
	})
	return l.closeErr
}

func unavailable(msg string, err error) error {
	return fmt.Errorf("%w: %w", khabardar.Errorf(khabardar.EUNAVAILABLE, "%s", msg), err)
}
