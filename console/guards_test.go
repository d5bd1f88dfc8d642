package console_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// TestAgentWithoutAgentIDSeesNothing: an agent account created without an agent id sees no
// tickets at all (not everyone's), whatever agent filter it asks for, on the JSON report and on
// the dashboard page. Guard: consoleFilter's "\x00none" for an agent without an agent id.
func TestAgentWithoutAgentIDSeesNothing(t *testing.T) {
	e := newEnv(t, 20)
	hash, err := console.HashPassword("password-noid", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateUser(t.Context(), storage.User{Name: "noid", Role: "agent", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	sup, _ := e.signIn(t, "sup", "password-sup")
	all := reportOf(t, sup, e.srv.URL+"/console/report.json")
	if all.TicketsCreated == 0 {
		t.Fatal("the demo data has no tickets; the check below would prove nothing")
	}
	noid, _ := e.signIn(t, "noid", "password-noid")
	for _, q := range []string{"", "?agent=", "?agent=cli:alice", "?agent=%00none"} {
		r := reportOf(t, noid, e.srv.URL+"/console/report.json"+q)
		if r.TicketsCreated != 0 || len(r.Agents) != 0 || len(r.Channels) != 0 {
			t.Errorf("report.json%s for an agent without agent id: %d tickets, %d agent rows, %d channel rows; want nothing",
				q, r.TicketsCreated, len(r.Agents), len(r.Channels))
		}
	}
	resp, body := get(t, noid, e.srv.URL+"/console/")
	if resp.StatusCode != 200 {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	for _, a := range all.Agents {
		if a.Key != "" && strings.Contains(body, a.Key) {
			t.Errorf("the dashboard of an agent without agent id names agent %q", a.Key)
		}
	}
}
