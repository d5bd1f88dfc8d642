package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/storage"
)

// usersForm returns a form for an account action with the admin's CSRF token from the users page.
func usersForm(t *testing.T, e *env, c *http.Client, kv ...string) url.Values {
	t.Helper()
	_, body := get(t, c, e.srv.URL+"/console/users")
	f := url.Values{"csrf": {csrfOf(t, body)}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// TestDisabledAccountSignedOutAtOnce: an admin disables alice from the users page; alice's very next
// request (already signed in) goes to the sign-in page, she cannot sign in again, and after the admin
// enables her again she can. The change is in the audit table on the page.
func TestDisabledAccountSignedOutAtOnce(t *testing.T) {
	e := newEnv(t, 0)
	admin, _ := e.signIn(t, "admin", "password-admin")
	alice, _ := e.signIn(t, "alice", "password-alice")
	if resp, _ := get(t, alice, e.srv.URL+"/console/"); resp.StatusCode != 200 {
		t.Fatalf("alice before: %d", resp.StatusCode)
	}
	resp, body := post(t, admin, e.srv.URL+"/console/users/disable", usersForm(t, e, admin, "name", "alice"))
	if resp.StatusCode != 200 || !strings.Contains(body, "alice") || !strings.Contains(body, `class="user-row disabled" data-user="alice"`) {
		t.Fatalf("disable: %d\n%.2000s", resp.StatusCode, body)
	}
	if !regexp.MustCompile(`<td>console:admin</td><td>disabled</td><td>alice</td>`).MatchString(body) {
		t.Errorf("audit table lacks the change:\n%s", body)
	}
	if resp, _ := get(t, alice, e.srv.URL+"/console/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("alice after disable: %d %q, want 303 → sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, resp = e.signIn(t, "alice", "password-alice")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in of a disabled account: %d, want 403", resp.StatusCode)
	}
	if resp, _ := post(t, admin, e.srv.URL+"/console/users/enable", usersForm(t, e, admin, "name", "alice")); resp.StatusCode != 200 {
		t.Fatalf("enable: %d", resp.StatusCode)
	}
	if _, resp := e.signIn(t, "alice", "password-alice"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("sign-in after enable: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestAccountActions: each users-page action, its answer and its effect, as a table.
func TestAccountActions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		op     string
		form   []string
		status int
		says   string // the page contains
		check  func(t *testing.T, e *env)
	}{
		{"role change", "role", []string{"name", "alice", "role", "supervisor"}, 200, "alice", func(t *testing.T, e *env) {
			if u, _ := e.db.UserByName(t.Context(), "alice"); u.Role != "supervisor" {
				t.Errorf("role %q", u.Role)
			}
		}},
		{"bad role", "role", []string{"name", "alice", "role", "root"}, 400, "", func(t *testing.T, e *env) {
			if u, _ := e.db.UserByName(t.Context(), "alice"); u.Role != "agent" {
				t.Errorf("role %q", u.Role)
			}
		}},
		{"last admin demoted", "role", []string{"name", "admin", "role", "agent"}, 409, "最后一个", func(t *testing.T, e *env) {
			if u, _ := e.db.UserByName(t.Context(), "admin"); u.Role != "admin" {
				t.Errorf("role %q", u.Role)
			}
		}},
		{"last admin disabled", "disable", []string{"name", "admin"}, 409, "最后一个", nil},
		{"last admin deleted", "delete", []string{"name", "admin"}, 409, "最后一个", nil},
		{"unknown account", "disable", []string{"name", "nobody"}, 404, "没有这个账号", nil},
		{"link agent id", "agent", []string{"name", "sup", "agent_id", "slack:U42"}, 200, "slack:U42", func(t *testing.T, e *env) {
			if u, _ := e.db.UserByName(t.Context(), "sup"); u.AgentID != "slack:U42" {
				t.Errorf("agent id %q", u.AgentID)
			}
		}},
		{"agent id taken", "agent", []string{"name", "sup", "agent_id", "cli:alice"}, 409, "另一个账号", nil},
		{"agent id with spaces", "agent", []string{"name", "sup", "agent_id", "a b"}, 400, "空格", nil},
		{"delete", "delete", []string{"name", "sup"}, 200, "已删除", func(t *testing.T, e *env) {
			if _, err := e.db.UserByName(t.Context(), "sup"); err == nil {
				t.Error("sup still exists")
			}
		}},
		{"unknown action", "promote", []string{"name", "alice"}, 404, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0)
			admin, _ := e.signIn(t, "admin", "password-admin")
			resp, body := post(t, admin, e.srv.URL+"/console/users/"+tc.op, usersForm(t, e, admin, tc.form...))
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) {
				t.Fatalf("%d, want %d with %q:\n%.1500s", resp.StatusCode, tc.status, tc.says, body)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

// TestPasswordReset: the admin resets alice's password; the page shows the new one once, alice's
// session ends, and she signs in with it straight onto the change-password form.
func TestPasswordReset(t *testing.T) {
	e := newEnv(t, 0)
	admin, _ := e.signIn(t, "admin", "password-admin")
	alice, _ := e.signIn(t, "alice", "password-alice")
	resp, body := post(t, admin, e.srv.URL+"/console/users/password", usersForm(t, e, admin, "name", "alice"))
	m := regexp.MustCompile(`id="reset-password">[^<]*<code>([^<]+)</code>`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("reset: %d\n%.1500s", resp.StatusCode, body)
	}
	if resp, _ := get(t, alice, e.srv.URL+"/console/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("alice's old session after reset: %d", resp.StatusCode)
	}
	if _, resp := e.signIn(t, "alice", "password-alice"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d", resp.StatusCode)
	}
	if _, resp := e.signIn(t, "alice", m[1]); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/password" {
		t.Errorf("new password: %d %q, want the change form", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestAccountActionsNeedAdminAndCSRF: supervisors and agents cannot change accounts (403), nor can
// an admin without the session's CSRF token; nothing changes.
func TestAccountActionsNeedAdminAndCSRF(t *testing.T) {
	e := newEnv(t, 0)
	admin, _ := e.signIn(t, "admin", "password-admin")
	sup, _ := e.signIn(t, "sup", "password-sup")
	alice, _ := e.signIn(t, "alice", "password-alice")
	_, supPage := get(t, sup, e.srv.URL+"/console/")
	_, alicePage := get(t, alice, e.srv.URL+"/console/")
	for _, op := range []string{"disable", "enable", "delete", "role", "agent", "password"} {
		for _, tc := range []struct {
			who  string
			c    *http.Client
			csrf string
		}{{"supervisor", sup, csrfOf(t, supPage)}, {"agent", alice, csrfOf(t, alicePage)}, {"admin without token", admin, ""}, {"admin, wrong token", admin, "x" + csrfOf(t, supPage)}} {
			f := url.Values{"name": {"alice"}, "role": {"admin"}, "agent_id": {"cli:mallory"}}
			if tc.csrf != "" {
				f.Set("csrf", tc.csrf)
			}
			if resp, _ := post(t, tc.c, e.srv.URL+"/console/users/"+op, f); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", tc.who, op, resp.StatusCode)
			}
		}
	}
	u, err := e.db.UserByName(t.Context(), "alice")
	if err != nil || u.Role != "agent" || u.AgentID != "cli:alice" || u.Disabled() || u.MustChange || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("password-alice")) != nil {
		t.Fatalf("alice changed: %+v %v", u, err)
	}
	if log, _ := e.db.AccountAudit(t.Context(), "", 10); len(log) != 0 {
		t.Errorf("audit rows %+v", log)
	}
}

// TestAdminDisablesItself: with a second admin, an admin may disable its own account; its session
// ends with the same request.
func TestAdminDisablesItself(t *testing.T) {
	e := newEnv(t, 0)
	hash, _ := bcrypt.GenerateFromPassword([]byte("password-root"), bcrypt.MinCost)
	if _, err := e.db.CreateUser(t.Context(), storage.User{Name: "root", Role: "admin", PasswordHash: string(hash)}); err != nil {
		t.Fatal(err)
	}
	admin, _ := e.signIn(t, "admin", "password-admin")
	resp, _ := post(t, admin, e.srv.URL+"/console/users/disable", usersForm(t, e, admin, "name", "admin"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("self-disable: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, admin, e.srv.URL+"/console/users"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after self-disable: %d", resp.StatusCode)
	}
}

// TestLinkedAgentIsOnePerson: the admin links the console account "sup" to the Slack agent id
// slack:U0DEMO01; the per-agent report shows that Slack agent's work under sup's name (one row, one
// person), and the dashboard names them too.
func TestLinkedAgentIsOnePerson(t *testing.T) {
	e := newEnv(t, 20)
	admin, _ := e.signIn(t, "admin", "password-admin")
	sup, _ := e.signIn(t, "sup", "password-sup")
	row := func() (n int, name string) {
		for _, a := range reportOf(t, sup, e.srv.URL+"/console/report.json").Agents {
			if a.Key == "slack:U0DEMO01" {
				n, name = n+1, a.Name
			}
		}
		return n, name
	}
	if n, name := row(); n != 1 || name != "" {
		t.Fatalf("before linking: %d rows, name %q", n, name)
	}
	if resp, _ := post(t, admin, e.srv.URL+"/console/users/agent", usersForm(t, e, admin, "name", "sup", "agent_id", "slack:U0DEMO01")); resp.StatusCode != 200 {
		t.Fatalf("link: %d", resp.StatusCode)
	}
	if n, name := row(); n != 1 || name != "sup" {
		t.Fatalf("after linking: %d rows, name %q; want one row named sup", n, name)
	}
	if _, body := get(t, sup, e.srv.URL+"/console/"); !strings.Contains(body, "slack:U0DEMO01 · sup") {
		t.Error("the dashboard's agent table does not name sup")
	}
}

// TestOwnPasswordChangeAudited: a user's change of their own password is in the account audit too
// (never the password itself).
func TestOwnPasswordChangeAudited(t *testing.T) {
	e := newEnv(t, 0)
	alice, _ := e.signIn(t, "alice", "password-alice")
	_, page := get(t, alice, e.srv.URL+"/console/password")
	resp, _ := post(t, alice, e.srv.URL+"/console/password", url.Values{"csrf": {csrfOf(t, page)}, "current": {"password-alice"},
		"password": {"new-password-alice"}, "repeat": {"new-password-alice"}})
	if resp.StatusCode != 200 {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	log, err := e.db.AccountAudit(t.Context(), "alice", 10)
	if err != nil || len(log) != 1 || log[0].Actor != "console:alice" || log[0].Action != "password" || log[0].Detail != "" {
		t.Fatalf("audit %+v %v", log, err)
	}
	if _, resp := e.signIn(t, "alice", "new-password-alice"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign in with the new password: %d", resp.StatusCode)
	}
}
