package kb

import (
	"context"
	"fmt"
	"os"
	"time"
)

// WatchOptions configure WatchFile.
type WatchOptions struct {
	Interval time.Duration           // how often the file is checked; default 2s
	OnChange func(*Library)          // called with the new library after a successful reload
	OnError  func(err error)         // called when a changed file fails to load (the old library stays)
	Tick     func() <-chan time.Time // test hook: replaces the ticker when set
}

// Watch polls path every interval and calls onChange with the reloaded library whenever the file's
// modification time or size changes and the new content loads. A file that fails to load is
// skipped (the caller keeps the library it has) and tried again on its next change. Watch blocks
// until ctx is done and then returns nil.
//
// Polling rather than fsnotify: editors replace files by rename, which inotify watches lose, and
// mounted volumes (Docker, NFS) often deliver no events at all; one stat per interval is cheap.
func Watch(ctx context.Context, path string, interval time.Duration, onChange func(*Library)) error {
	return WatchFile(ctx, path, WatchOptions{Interval: interval, OnChange: onChange})
}

// WatchFile is Watch with options (error reporting).
func WatchFile(ctx context.Context, path string, o WatchOptions) error {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	last, err := stamp(path)
	if err != nil {
		return fmt.Errorf("kb: watch %s: %w", path, err)
	}
	var tick <-chan time.Time
	if o.Tick == nil {
		t := time.NewTicker(o.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		if o.Tick != nil {
			tick = o.Tick()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
		cur, err := stamp(path)
		if err != nil {
			if o.OnError != nil {
				o.OnError(fmt.Errorf("kb: watch %s: %w", path, err))
			}
			continue
		}
		if cur == last {
			continue
		}
		last = cur
		lib, err := LoadFile(path)
		if err != nil {
			if o.OnError != nil {
				o.OnError(err)
			}
			continue
		}
		if o.OnChange != nil {
			o.OnChange(lib)
		}
	}
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stamp(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}
