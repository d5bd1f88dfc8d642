package storage

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestKeyFileOnSecretMount: a key file that others may read is tightened to 0600 when kefu may do it;
// when it cannot because the file is not kefu's or sits on a read-only mount (a Docker Compose
// secret is a bind mount keeping the host's owner and mode; a Kubernetes secret volume is read-only,
// 0644 by default), kefu warns once and uses the key instead of refusing to start. Any other
// failure to tighten it still refuses.
func TestKeyFileOnSecretMount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "encryption_key")
	if err := os.WriteFile(path, []byte(GenerateKey()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644) // whatever the umask
	var refuse error
	old := chmodKeyFile
	chmodKeyFile = func(string, fs.FileMode) error { return refuse }
	t.Cleanup(func() { chmodKeyFile = old })

	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.EROFS} {
		refuse = &fs.PathError{Op: "chmod", Path: path, Err: errno}
		var logs bytes.Buffer
		r, err := LoadKeyring(KeySource{File: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("%v: key file on a secret mount refused: %v", errno, err)
		}
		if !strings.Contains(logs.String(), "readable by others") || strings.Count(logs.String(), "\n") != 1 {
			t.Errorf("%v: want one warning, got %q", errno, logs.String())
		}
		if err := r.Reload(); err != nil {
			t.Errorf("%v: reload: %v", errno, err)
		}
		if n := strings.Count(logs.String(), "\n"); n != 1 {
			t.Errorf("%v: %d warnings after a reload; want the one", errno, n)
		}
	}
	refuse = &fs.PathError{Op: "chmod", Path: path, Err: syscall.EIO}
	if _, err := LoadKeyring(KeySource{File: path}); err == nil || !errors.Is(err, syscall.EIO) {
		t.Errorf("chmod failing with EIO: %v; want a refusal", err)
	}
	// kefu's own file is tightened as before.
	chmodKeyFile = os.Chmod
	if _, err := LoadKeyring(KeySource{File: path}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v; want 0600", st.Mode().Perm())
	}
}
