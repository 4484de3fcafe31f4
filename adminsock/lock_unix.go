//go:build unix

package adminsock

import (
	"errors"
	"os"
	"syscall"
)

// errBusy is lockFile's answer when another process holds the lock.
var errBusy = errors.New("busy")

// lockFile takes an exclusive flock on path, creating it (0600), without
// waiting: a second server must fail at once. The lock goes with the file's
// close or the process's death, so a killed server leaves nothing held.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		f.Close()
		return nil, errBusy
	default:
		f.Close()
		return nil, err
	}
}

// ownedByUs reports whether the file fi describes belongs to this process's
// effective user.
func ownedByUs(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Geteuid()
}
