package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestLoginFailureCompareAndSet: of parallel sign-in attempts that read the same count, exactly one
// counts (the sign-in backoff's atomic check, issue 15); forgive takes one back; user names are unique
// regardless of case.
func TestLoginFailureCompareAndSet(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		for round := 0; round < 3; round++ {
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := 0
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := db.BumpLoginFailure(ctx, "ip:192.0.2.1", round, at)
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						won++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if won != 1 {
				t.Fatalf("round %d: %d attempts counted, want 1", round, won)
			}
		}
		got, err := db.LoginFailureCounts(ctx, []string{"ip:192.0.2.1", "ip:other"})
		if err != nil {
			t.Fatal(err)
		}
		if f := got["ip:192.0.2.1"]; f.Failures != 3 || !f.LastAt.Equal(at) || len(got) != 1 {
			t.Fatalf("counts %+v", got)
		}
		if err := db.ForgiveLoginFailure(ctx, "ip:192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.LoginFailureCounts(ctx, []string{"ip:192.0.2.1"}); got["ip:192.0.2.1"].Failures != 2 {
			t.Errorf("after forgive: %+v", got)
		}

		if _, err := db.CreateUser(ctx, storage.User{Name: "admin", Role: "admin", PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, storage.User{Name: "ADMIN", Role: "admin", PasswordHash: "x"}); !errors.Is(err, bot.ErrDuplicate) {
			t.Errorf("ADMIN beside admin: %v, want ErrDuplicate", err)
		}
	})
}
