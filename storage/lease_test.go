package storage_test

import (
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/storage/storetest"
)

// One holder at a time: a lease is renewed by its holder, refused to others until it runs out, and
// of many concurrent contenders exactly one wins.
func TestLease(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := t.Context()
		steps := []struct {
			holder string
			ttl    time.Duration
			want   bool
		}{
			{"a", time.Hour, true},
			{"b", time.Hour, false}, // a holds it
			{"a", time.Hour, true},  // renewal
			{"a", time.Nanosecond, true},
			{"b", time.Hour, true}, // a released it (1ns)
			{"a", time.Hour, false},
		}
		for i, s := range steps {
			if i == 4 {
				time.Sleep(2 * time.Millisecond) // past a's 1ns lease, whatever the clock resolution
			}
			got, err := db.Lease(ctx, "feed", s.holder, s.ttl)
			if err != nil {
				t.Fatal(err)
			}
			if got != s.want {
				t.Fatalf("step %d: Lease(%s) = %v, want %v", i, s.holder, got, s.want)
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		winners := 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := db.Lease(ctx, "race", string(rune('a'+i)), time.Hour)
				if err != nil {
					t.Error(err)
				}
				if got {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d contenders won the lease, want 1", winners)
		}
	})
}
