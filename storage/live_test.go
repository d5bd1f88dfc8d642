package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestLiveSessionsAndPresence: LiveSessions answers, in one query, which streams' sessions are still
// valid (expired, deleted or disabled ones are not) with the account as it is now; TouchPresence keeps
// one row per user and ticket, lists the others, and forgets who left or whose heartbeat expired.
func TestLiveSessionsAndPresence(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		addUsers(t, db, storage.User{Name: "root", Role: "admin"}, storage.User{Name: "alice", Role: "agent", AgentID: "cli:alice"},
			storage.User{Name: "bob", Role: "agent", AgentID: "cli:bob"})
		now := time.Now()
		users := map[string]storage.User{}
		for _, n := range []string{"root", "alice", "bob"} {
			u, err := db.UserByName(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			users[n] = u
		}
		for _, s := range []struct {
			tok, user string
			ttl       time.Duration
		}{{"t-root", "root", time.Hour}, {"t-alice", "alice", time.Hour}, {"t-bob", "bob", time.Hour}, {"t-old", "root", -time.Minute}} {
			if err := db.CreateSession(ctx, s.tok, users[s.user].ID, "c", now.Add(s.ttl)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SetUserDisabled(ctx, "cli:op", "bob", true); err != nil {
			t.Fatal(err)
		}
		if err := db.SetUserRole(ctx, "cli:op", "alice", "supervisor"); err != nil {
			t.Fatal(err)
		}
		got, err := db.LiveSessions(ctx, []string{"t-root", "t-alice", "t-bob", "t-old", "t-none"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["t-root"].Name != "root" || got["t-alice"].Role != "supervisor" || got["t-alice"].AgentID != "cli:alice" {
			t.Fatalf("live sessions %+v", got)
		}
		ttl := 10 * time.Second
		for _, step := range []struct {
			user, state string
			at          time.Duration
			ttl         time.Duration
			want        string
		}{
			{"alice", storage.PresenceViewing, 0, ttl, ""},
			{"root", storage.PresenceReplying, time.Second, ttl, "alice:viewing"},
			{"alice", storage.PresenceReplying, 2 * time.Second, ttl, "root:replying"},
			{"root", storage.PresenceViewing, 3 * time.Second, ttl, "alice:replying"},
			{"root", "", 4 * time.Second, 0, "alice:replying"},
			{"alice", storage.PresenceViewing, 5 * time.Second, ttl, ""},
			{"root", storage.PresenceViewing, 16 * time.Second, ttl, ""}, // alice's last heartbeat (5 s) expired at 15 s
		} {
			others, err := db.TouchPresence(ctx, "GD20261203001", users[step.user], step.state, now.Add(step.at), step.ttl)
			if err != nil {
				t.Fatal(err)
			}
			s := ""
			for _, o := range others {
				s += o.UserName + ":" + o.State
			}
			if s != step.want {
				t.Errorf("%s at %v: others %q, want %q", step.user, step.at, s, step.want)
			}
		}
		if id, err := db.LastEventID(ctx); err != nil || id != 0 {
			t.Errorf("last event id of an empty database: %d %v", id, err)
		}
	})
}

// TestMacros: add (a name once per team), list per team with the every-team ones, delete.
func TestMacros(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		ctx := context.Background()
		db := open(t)
		for _, m := range []storage.Macro{{Team: "tech", Name: "a", Body: "1"}, {Team: "", Name: "a", Body: "2"}, {Team: "billing", Name: "b", Body: "3"}} {
			m.CreatedBy = "cli:op"
			if _, err := db.AddMacro(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.AddMacro(ctx, storage.Macro{Team: "tech", Name: "a", Body: "x", CreatedBy: "cli:op"}); !errors.Is(err, bot.ErrDuplicate) {
			t.Fatalf("duplicate: %v", err)
		}
		for _, tc := range []struct {
			teams []string
			want  string
		}{{nil, "/a billing/b tech/a"}, {[]string{"", "tech"}, "/a tech/a"}, {[]string{"sales"}, ""}} {
			ms, err := db.Macros(ctx, tc.teams...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Team+"/"+m.Name)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("Macros(%q) = %v, want %s", tc.teams, got, tc.want)
			}
		}
		ms, _ := db.Macros(ctx)
		if err := db.DeleteMacro(ctx, ms[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteMacro(ctx, ms[0].ID); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("delete again: %v", err)
		}
		if _, err := db.MacroByID(ctx, ms[1].ID); err != nil {
			t.Error(err)
		}
	})
}
