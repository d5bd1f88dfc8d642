package kb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "faq.yaml")
	write := func(content string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write("- id: a\n  question: Q\n  answer: A\n", base)

	tick := make(chan time.Time)
	idle := make(chan struct{}) // the watcher asks for its next tick only when it has handled the last
	changes := make(chan *Library, 4)
	errs := make(chan error, 4)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- WatchFile(ctx, path, WatchOptions{
			Tick:     func() <-chan time.Time { idle <- struct{}{}; return tick },
			OnChange: func(l *Library) { changes <- l },
			OnError:  func(err error) { errs <- err },
		})
	}()
	<-idle
	// step delivers one tick and waits until the watcher has handled it.
	step := func() {
		tick <- time.Time{}
		<-idle
	}

	step() // unchanged: nothing
	if len(changes)+len(errs) != 0 {
		t.Fatalf("unchanged file reported %d changes, %d errors", len(changes), len(errs))
	}

	write("- id: a\n  question: Q\n  answer: A\n- id: b\n  question: Q2\n  answer: A2\n", base.Add(time.Second))
	step()
	select {
	case l := <-changes:
		if l.Len() != 2 {
			t.Errorf("reloaded library has %d entries, want 2", l.Len())
		}
	default:
		t.Fatal("changed file not reloaded")
	}

	write("- id: a\n  question: Q\n  answer: A\n- id: a\n  question: Q\n  answer: A\n", base.Add(2*time.Second))
	step()
	if len(changes) != 0 || len(errs) != 1 {
		t.Fatalf("bad file: %d changes, %d errors; want 0 and 1", len(changes), len(errs))
	}
	if err := <-errs; err == nil {
		t.Fatal("nil error")
	}

	step() // the bad file is not retried until it changes again
	if len(changes)+len(errs) != 0 {
		t.Fatalf("unchanged bad file reported again")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch returned %v after cancel, want nil", err)
	}
}

func TestWatchMissingFile(t *testing.T) {
	err := Watch(t.Context(), filepath.Join(t.TempDir(), "none.yaml"), time.Second, func(*Library) {})
	if err == nil {
		t.Fatal("want an error for a missing file")
	}
}
