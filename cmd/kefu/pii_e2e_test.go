package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-dev/kefu/pii"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// The personal data the customer of piiJourney types.
var piiSecrets = []string{"13812345678", "110101199003074514", "wang.xm@example.cn", "6222021234567890128"}

// piiJourney walks a web-chat customer to a ticket whose description holds a phone number, an ID
// number, an e-mail address and a bank card; an agent replies and notes; the customer rates with a
// comment that repeats the phone. It returns the ticket number.
func piiJourney(t *testing.T, s *e2eServer, cli func(args ...string) (string, error)) string {
	t.Helper()
	sess := s.session()
	r := s.say(sess, nil, "你好")
	r = s.say(sess, r, "保修期是多久？")
	r = s.say(sess, r, "!没解决")
	r = s.say(sess, r, "!售后退换")
	answers := []string{"洗衣机滚筒不转了，电话13812345678，身份证110101199003074514，邮箱wang.xm@example.cn，退款到卡号6222021234567890128，希望尽快上门维修",
		"202611200012345", "!一般"}
	for _, a := range answers {
		if strings.Contains(r[len(r)-1].Text, "对吗") {
			break
		}
		if strings.HasPrefix(a, "!") && !hasButton(r, a[1:]) {
			continue
		}
		r = s.say(sess, r, a)
	}
	contains(t, r, "对吗")
	r = s.say(sess, r, "!提交")
	no := ticketNo.FindString(r[len(r)-1].Text)
	if no == "" {
		t.Fatalf("no ticket number in %+v", r)
	}
	for _, args := range [][]string{{"claim", no}, {"note", no, "客户身份证 110101199003074514"}, {"reply", no, "您好，师傅会打 13812345678 联系您"}, {"resolve", no, "更换电机"}} {
		if _, err := cli(args...); err != nil {
			t.Fatalf("kefu ticket %v: %v", args, err)
		}
	}
	ask := s.poll(sess, r[len(r)-1].ID, no)
	r = s.say(sess, []reply{ask}, "!已解决")
	r = s.say(sess, r, "!2")
	s.say(sess, r, "太慢了，我的电话 13812345678 打了三次")
	return no
}

// TestPersonalDataEndToEnd: after a real journey no output path the team sees — `kefu ticket show`
// and `list`, the CSV and Excel exports — shows the customer's phone, ID number, e-mail or card; a
// supervisor's --reveal shows them and is audited, an agent's is refused; the raw database files hold
// none of them in plain text; the export file is 0600.
func TestPersonalDataEndToEnd(t *testing.T) {
	for name, dsn := range testDatabases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dbURL := dsn(t)
			cfgFile := filepath.Join(dir, "kefu.yaml")
			os.WriteFile(cfgFile, []byte("agents:\n  - id: cli:alice\n    name: Alice\n  - id: cli:sam\n    name: Sam\n    supervisor: true\n"), 0o600)
			env := func(agent string) func(string) string {
				return func(k string) string {
					switch k {
					case "KEFU_DATABASE_URL":
						return dbURL
					case "KEFU_AGENT":
						return agent
					}
					return ""
				}
			}
			cliAs := func(agent string, args ...string) (string, error) {
				var out bytes.Buffer
				err := runTicket(context.Background(), append([]string{args[0], "--config", cfgFile}, args[1:]...), &out, env(agent))
				return out.String(), err
			}
			s := startJourneyServer(t, dbURL, nil, func(c *Config) {
				c.Agents = []AgentConfig{{ID: "cli:alice", Name: "Alice"}, {ID: "cli:sam", Name: "Sam", Supervisor: true}}
			})
			no := piiJourney(t, s.e2eServer, func(args ...string) (string, error) { return cliAs("alice", args...) })
			waitFor(t, "survey comment stored", func() bool {
				tk, _ := s.ticketEvents(t, no)
				return tk.RatingComment != ""
			})

			show, err := cliAs("alice", "show", no)
			if err != nil {
				t.Fatal(err)
			}
			list, _ := cliAs("alice", "list", "--status", "open,in_progress,pending,resolved,closed")
			var csv, xlsx bytes.Buffer
			out := filepath.Join(dir, "tickets.csv")
			if err := runExport(context.Background(), []string{"tickets", "--config", cfgFile, "--from", "2000-01-01", "--to", "2100-01-01", "-o", out}, &bytes.Buffer{}, env("alice")); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(out)
			csv.Write(b)
			if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
				t.Errorf("export file mode %v, want 0600", st.Mode().Perm())
			}
			xout := filepath.Join(dir, "tickets.xlsx")
			if err := runExport(context.Background(), []string{"tickets", "--config", cfgFile, "--from", "2000-01-01", "--to", "2100-01-01", "-o", xout}, &bytes.Buffer{}, env("alice")); err != nil {
				t.Fatal(err)
			}
			xlsx.WriteString(xlsxText(t, xout))
			for what, text := range map[string]string{"ticket show": show, "ticket list": list, "CSV export": csv.String(), "xlsx export": xlsx.String()} {
				if pii.Leaks(text, piiSecrets) {
					t.Errorf("%s shows personal data:\n%s", what, text)
				}
			}
			mustContain(t, "ticket show", show, "138****5678", "110***********4514", "w***@example.cn", "***************0128", "太慢了")

			// Reveal: refused to an agent (and not audited), shown to a supervisor (and audited).
			if _, err := cliAs("alice", "show", "--reveal", no); err == nil {
				t.Error("an agent could --reveal")
			}
			revealed, err := cliAs("sam", "show", "--reveal", no)
			if err != nil {
				t.Fatal(err)
			}
			mustContain(t, "ticket show --reveal", revealed, piiSecrets...)
			log, err := s.db.AccessLog(context.Background(), 0, 10)
			if err != nil || len(log) != 1 || log[0].Actor != "cli:sam" || log[0].Action != storage.AccessReveal || log[0].TicketNo != no {
				t.Errorf("audit log %+v, %v; want one reveal by cli:sam of %s", log, err, no)
			}

			// Nothing in plain text at rest.
			s.stop()
			dump := storetest.DumpTables(t, s.db)
			if pii.Leaks(dump, piiSecrets) {
				for _, line := range strings.Split(dump, "\n") {
					if pii.Leaks(line, piiSecrets) {
						t.Errorf("the database tables hold personal data in plain text: %.300s", line)
					}
				}
			}
			if !strings.Contains(name, "postgres") {
				raw := readDBFiles(t, dbURL)
				if pii.Leaks(raw, piiSecrets) {
					t.Error("the raw database files hold personal data in plain text")
				}
			}

			// A data request: the customer, found by phone, gets everything as JSON; then is erased.
			customer := func(agent string, args ...string) (string, error) {
				var out bytes.Buffer
				err := runCustomer(context.Background(), append(args, "--config", cfgFile), &out, env(agent))
				return out.String(), err
			}
			if _, err := customer("alice", "export", "+86 138 1234 5678"); err == nil {
				t.Error("an agent could export a customer's data")
			}
			exported, err := customer("sam", "export", "+86 138 1234 5678")
			if err != nil {
				t.Fatal(err)
			}
			mustContain(t, "customer export", exported, append([]string{no, "太慢了"}, piiSecrets...)...)
			erased, err := customer("sam", "erase", "13812345678", "--yes")
			if err != nil {
				t.Fatal(err)
			}
			mustContain(t, "customer erase", erased, "erased", "1 tickets kept")
			if pii.Leaks(storetest.DumpTables(t, s.db), piiSecrets) {
				t.Error("personal data left after kefu customer erase")
			}
			audit, err := customer("sam", "audit")
			if err != nil {
				t.Fatal(err)
			}
			mustContain(t, "customer audit", audit, "reveal", "export", "erase", "cli:sam")
		})
	}
}

// readDBFiles returns the bytes of an SQLite database and its WAL.
func readDBFiles(t *testing.T, path string) string {
	t.Helper()
	var b bytes.Buffer
	for _, p := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		b.Write(data)
	}
	if b.Len() == 0 {
		t.Fatal("no database file")
	}
	return b.String()
}

// xlsxText returns every cell of every sheet of an Excel file.
func xlsxText(t *testing.T, path string) string {
	t.Helper()
	x, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var b strings.Builder
	for _, sheet := range x.GetSheetList() {
		rows, err := x.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return b.String()
}
