//go:build unix

package storage

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// markInUse marks an SQLite database file as open by this process: a shared flock(2) on the database file
// for as long as the DB is open. SQLite itself locks with fcntl(2) byte ranges, which on Linux and the
// BSDs are independent of flock, so this neither blocks nor is blocked by SQLite's own locking. The
// kernel drops the mark when the process exits, however it exits (kill -9 included).
func markInUse(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is being restored", ErrDatabaseInUse, path)
		}
		return nil, nil // a file system without flock (some FUSE mounts): no mark, as before
	}
	return f, nil
}

// lockExclusive takes the file for a restore; it fails with ErrDatabaseInUse while any process has the
// database open. A missing file is not in use (nil, nil).
func lockExclusive(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: restore: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is open in a running kefu (kefu serve or another command): stop it, then restore", ErrDatabaseInUse, path)
		}
		return nil, nil // no flock on this file system: the restore relies on kefu being stopped, as before
	}
	return f, nil
}
