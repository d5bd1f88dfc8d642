package webhook

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadmeVerifyExample compiles the README's receiver example (the ```go block of its Webhooks
// section) and runs it on deliveries signed by Sign: it accepts a good one and refuses a tampered
// body, another secret and an old timestamp — so the documentation verifies what kefu sends.
func TestReadmeVerifyExample(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to compile the README example")
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Webhooks\n")
	if !ok {
		t.Fatal("README has no Webhooks section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, code, ok := strings.Cut(sec, "```go\n")
	if !ok {
		t.Fatal("README Webhooks has no Go example")
	}
	code, _, _ = strings.Cut(code, "```")

	secret, other := NewSecret(), NewSecret()
	body := `{"id":"evt_7","type":"ticket.resolved"}`
	now := time.Now()
	cases := []struct {
		name, secret, header, body string
		want                       bool
	}{
		{"good", secret, Sign(secret, now, []byte(body)), body, true},
		{"tampered", secret, Sign(secret, now, []byte(body)), body + " ", false},
		{"other secret", NewSecret(), Sign(secret, now, []byte(body)), body, false},
		{"old", secret, Sign(secret, now.Add(-time.Hour), []byte(body)), body, false},
		// A rotation's overlap: "t=…,v1=<new>,v1=<old>" verifies with either secret.
		{"rotation: receiver has the new secret", secret, SignAll([]string{secret, other}, now, []byte(body)), body, true},
		{"rotation: receiver has the old secret", other, SignAll([]string{secret, other}, now, []byte(body)), body, true},
		{"rotation: neither", NewSecret(), SignAll([]string{secret, other}, now, []byte(body)), body, false},
	}
	var calls strings.Builder
	for _, c := range cases {
		calls.WriteString("\tfmt.Println(verify(" + quote(c.secret) + ", " + quote(c.header) + ", []byte(" + quote(c.body) + ")))\n")
	}
	prog := "package main\n\nimport (\n\t\"crypto/hmac\"\n\t\"crypto/sha256\"\n\t\"encoding/hex\"\n\t\"fmt\"\n\t\"math\"\n\t\"strconv\"\n\t\"strings\"\n\t\"time\"\n)\n\n" +
		code + "\nfunc main() {\n" + calls.String() + "}\n"
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "run", file)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO111MODULE=off", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README example does not run: %v\n%s\n%s", err, out, prog)
	}
	got := strings.Fields(string(out))
	for i, c := range cases {
		if i >= len(got) || got[i] != map[bool]string{true: "true", false: "false"}[c.want] {
			t.Errorf("%s: the README example says %v, want %v", c.name, got, c.want)
		}
	}
}

func quote(s string) string { return "`" + s + "`" }
