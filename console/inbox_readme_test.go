package console_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeSection returns the README section under heading (up to the next "## ").
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	s = s[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestReadmeInbox runs every command of the README's "Agents' inbox" section exactly as written, from
// the repository root, and checks that each measured what the table reports (p50, p95 and CPU per load
// of both views on its database) and that the table holds numbers.
func TestReadmeInbox(t *testing.T) {
	sec := readmeSection(t, "## Agents' inbox")
	var cmds []string
	for _, line := range strings.Split(sec, "\n") {
		if strings.HasPrefix(line, "    ") {
			cmds = append(cmds, strings.TrimSpace(line))
		}
	}
	want := map[string]string{ // command → the database it must measure
		"go test ./console -run '^$' -bench InboxPage -benchtime 100x":                                     "sqlite",
		"./scripts/with-postgres.sh go test ./console -run '^$' -bench InboxPage/postgres -benchtime 100x": "postgres",
	}
	if len(cmds) != len(want) {
		t.Fatalf("the section shows %d commands, want %d: %q", len(cmds), len(want), cmds)
	}
	if regexp.MustCompile(`\b(PG|SQ)_(AGENT|SUP|CPU)\b|LOADAVG`).MatchString(sec) {
		t.Error("the section's table still has placeholders instead of numbers")
	}
	if testing.Short() {
		t.Skip("runs the benchmarks: skipped in -short mode")
	}
	for _, c := range cmds {
		db, ok := want[c]
		if !ok {
			t.Errorf("unexpected command %q", c)
			continue
		}
		t.Run(db, func(t *testing.T) {
			start := time.Now()
			cmd := exec.CommandContext(t.Context(), "sh", "-c", c)
			cmd.Dir = ".."
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", c, err, out)
			}
			for _, who := range []string{"agent", "supervisor"} {
				re := regexp.MustCompile(`BenchmarkInboxPage/` + db + `/` + who + `-\d+\s+100\s+\d+ ns/op\s+[\d.]+ cpu-ms\s+[\d.]+ max-ms\s+[\d.]+ p50-ms\s+[\d.]+ p95-ms`)
				if !re.Match(out) {
					t.Errorf("%s did not measure %s/%s over 100 loads:\n%s", c, db, who, out)
				}
			}
			t.Logf("%s: %v", c, time.Since(start).Round(time.Second))
		})
	}
}
