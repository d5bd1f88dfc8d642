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

func addUsers(t *testing.T, db *storage.DB, us ...storage.User) {
	t.Helper()
	for _, u := range us {
		if u.PasswordHash == "" {
			u.PasswordHash = "$2a$04$hash"
		}
		if _, err := db.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAccountAdministration: each change (disable, enable, delete, role, agent id, password) does what
// it says, refuses what would leave no enabled admin or give two accounts one agent id, and writes
// exactly one audit row when it changes something (none when it changes nothing or is refused).
func TestAccountAdministration(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		type step struct {
			name    string
			do      func(db *storage.DB) error
			wantErr error
			audit   string // the audit row's "action detail" ("" none)
		}
		for _, tc := range []struct {
			name  string
			setup func(t *testing.T, db *storage.DB)
			steps []step
			check func(t *testing.T, db *storage.DB)
		}{
			{"the only admin cannot be disabled, deleted or demoted", func(t *testing.T, db *storage.DB) {
				if err := db.SetUserDisabled(ctx, "setup", "root2", true); err != nil { // root is the only enabled admin
					t.Fatal(err)
				}
			}, []step{
				{"disable", func(db *storage.DB) error { return db.SetUserDisabled(ctx, "cli:op", "root", true) }, storage.ErrLastAdmin, ""},
				{"delete", func(db *storage.DB) error { return db.DeleteUser(ctx, "cli:op", "root") }, storage.ErrLastAdmin, ""},
				{"demote", func(db *storage.DB) error { return db.SetUserRole(ctx, "cli:op", "root", "agent") }, storage.ErrLastAdmin, ""},
				{"a disabled admin does not count: disabling it again changes nothing", func(db *storage.DB) error { return db.SetUserDisabled(ctx, "cli:op", "root2", true) }, nil, ""},
				{"re-enable root2", func(db *storage.DB) error { return db.SetUserDisabled(ctx, "cli:op", "root2", false) }, nil, "enabled "},
				{"now root may be demoted", func(db *storage.DB) error { return db.SetUserRole(ctx, "cli:op", "root", "supervisor") }, nil, "role admin->supervisor"},
			}, func(t *testing.T, db *storage.DB) {
				if u, _ := db.UserByName(ctx, "root"); u.Role != "supervisor" {
					t.Errorf("root role %q", u.Role)
				}
			}},
			{"disable ends sessions and refuses new ones; enable lets them in again", nil, []step{
				{"disable", func(db *storage.DB) error { return db.SetUserDisabled(ctx, "console:root", "alice", true) }, nil, "disabled "},
				{"disable again changes nothing", func(db *storage.DB) error { return db.SetUserDisabled(ctx, "console:root", "alice", true) }, nil, ""},
			}, func(t *testing.T, db *storage.DB) {
				if _, _, err := db.Session(ctx, "tok-alice", time.Now()); !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("session of a disabled account: %v", err)
				}
				u, _ := db.UserByName(ctx, "alice")
				if !u.Disabled() {
					t.Error("alice not disabled")
				}
				// a session created later (a race with sign-in) is refused too
				if err := db.CreateSession(ctx, "tok-late", u.ID, "csrf", time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				if _, _, err := db.Session(ctx, "tok-late", time.Now()); !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("late session of a disabled account: %v", err)
				}
				if err := db.SetUserDisabled(ctx, "console:root", "alice", false); err != nil {
					t.Fatal(err)
				}
				if _, _, err := db.Session(ctx, "tok-late", time.Now()); err != nil {
					t.Errorf("after enable: %v", err)
				}
			}},
			{"agent ids are one per account", nil, []step{
				{"taken", func(db *storage.DB) error { return db.SetUserAgentID(ctx, "cli:op", "bob", "cli:alice") }, storage.ErrAgentIDTaken, ""},
				{"link slack", func(db *storage.DB) error { return db.SetUserAgentID(ctx, "cli:op", "bob", "slack:U2") }, nil, "agent_id ->slack:U2"},
				{"unlink alice", func(db *storage.DB) error { return db.SetUserAgentID(ctx, "cli:op", "alice", "") }, nil, "agent_id cli:alice->"},
				{"now free", func(db *storage.DB) error { return db.SetUserAgentID(ctx, "cli:op", "bob", "cli:alice") }, nil, "agent_id slack:U2->cli:alice"},
				{"add with a taken id", func(db *storage.DB) error {
					_, err := db.CreateUser(ctx, storage.User{Name: "carol", Role: "agent", AgentID: "cli:alice", PasswordHash: "x"})
					return err
				}, storage.ErrAgentIDTaken, ""},
			}, func(t *testing.T, db *storage.DB) {
				if u, err := db.UserByAgentID(ctx, "cli:alice"); err != nil || u.Name != "bob" {
					t.Errorf("UserByAgentID: %+v %v", u, err)
				}
				names, err := db.AgentNames(ctx)
				if err != nil || names["cli:alice"] != "bob" {
					t.Errorf("AgentNames %v %v", names, err)
				}
			}},
			{"delete and password reset end sessions", nil, []step{
				{"reset", func(db *storage.DB) error {
					return db.ResetUserPassword(ctx, "console:root", "alice", "$2a$04$new", true)
				}, nil, "password "},
				{"delete bob", func(db *storage.DB) error { return db.DeleteUser(ctx, "console:root", "bob") }, nil, "deleted agent"},
				{"delete unknown", func(db *storage.DB) error { return db.DeleteUser(ctx, "console:root", "nobody") }, bot.ErrNotFound, ""},
				{"no actor", func(db *storage.DB) error { return db.DeleteUser(ctx, " ", "alice") }, errAny, ""},
			}, func(t *testing.T, db *storage.DB) {
				if _, _, err := db.Session(ctx, "tok-alice", time.Now()); !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("session after reset: %v", err)
				}
				if u, _ := db.UserByName(ctx, "alice"); !u.MustChange || u.PasswordHash != "$2a$04$new" {
					t.Errorf("alice after reset %+v", u)
				}
				if _, err := db.UserByName(ctx, "bob"); !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("bob after delete: %v", err)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				db := open(t)
				addUsers(t, db, storage.User{Name: "root", Role: "admin"}, storage.User{Name: "root2", Role: "admin"},
					storage.User{Name: "alice", Role: "agent", AgentID: "cli:alice"}, storage.User{Name: "bob", Role: "agent"})
				if tc.setup != nil {
					tc.setup(t, db)
				}
				alice, _ := db.UserByName(ctx, "alice")
				if err := db.CreateSession(ctx, "tok-alice", alice.ID, "csrf", time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				for _, s := range tc.steps {
					before, err := db.AccountAudit(ctx, "", 1000)
					if err != nil {
						t.Fatal(err)
					}
					err = s.do(db)
					switch {
					case s.wantErr == errAny && err == nil, s.wantErr != errAny && !errors.Is(err, s.wantErr):
						t.Fatalf("%s: err %v, want %v", s.name, err, s.wantErr)
					}
					after, _ := db.AccountAudit(ctx, "", 1000)
					switch {
					case s.audit == "" && len(after) != len(before):
						t.Errorf("%s: wrote an audit row %+v", s.name, after[0])
					case s.audit != "" && (len(after) != len(before)+1 || after[0].Action+" "+after[0].Detail != s.audit || after[0].Actor == ""):
						t.Errorf("%s: audit %+v, want %q", s.name, after, s.audit)
					}
				}
				tc.check(t, db)
			})
		}
	})
}

var errAny = errors.New("any error")

// TestLastAdminRace: two admins disabling each other at the same moment: one wins, one enabled admin
// is left (the advisory lock on PostgreSQL, the single writer on SQLite).
func TestLastAdminRace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		addUsers(t, db, storage.User{Name: "a1", Role: "admin"}, storage.User{Name: "a2", Role: "admin"})
		for round := 0; round < 5; round++ {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, n := range []string{"a1", "a2"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i == 0 {
						errs[i] = db.SetUserDisabled(ctx, "cli:op", n, true)
					} else {
						errs[i] = db.SetUserRole(ctx, "cli:op", n, "agent")
					}
				}()
			}
			wg.Wait()
			us, _ := db.Users(ctx)
			enabled := 0
			for _, u := range us {
				if u.Role == "admin" && !u.Disabled() {
					enabled++
				}
			}
			if enabled != 1 || (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("round %d: %d enabled admins left, errors %v", round, enabled, errs)
			}
			for _, e := range errs {
				if e != nil && !errors.Is(e, storage.ErrLastAdmin) {
					t.Fatal(e)
				}
			}
			// back to two admins
			if err := db.SetUserDisabled(ctx, "cli:op", "a1", false); err != nil {
				t.Fatal(err)
			}
			if err := db.SetUserRole(ctx, "cli:op", "a2", "admin"); err != nil {
				t.Fatal(err)
			}
		}
	})
}
