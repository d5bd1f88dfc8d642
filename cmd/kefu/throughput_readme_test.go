package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReadmeThroughputCommands checks every command of the README's Throughput section as written: a
// `go test` of a package of this repository whose -bench pattern names benchmarks that exist there,
// with flags go test accepts and only environment variables the benchmarks (or with-postgres.sh)
// read. The benchmarks take minutes, so the commands themselves run (from the repository root, as
// written) only with KEFU_README_BENCH=1.
func TestReadmeThroughputCommands(t *testing.T) {
	sec := readmeSection(t, "### Throughput")
	if i := strings.Index(sec, "\n#"); i >= 0 {
		sec = sec[:i]
	}
	var cmds []string
	for _, block := range strings.Split(sec, "```sh\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
			cmds = append(cmds, line)
		}
	}
	if len(cmds) < 4 {
		t.Fatalf("found %d commands in the Throughput section: %q", len(cmds), cmds)
	}
	knownEnv := map[string]bool{"PG_DURABLE": true, "KEFU_BENCH_TICKETS": true}
	for _, line := range cmds {
		words := shellWords(t, line)
		for len(words) > 0 && strings.Contains(words[0], "=") {
			k, _, _ := strings.Cut(words[0], "=")
			if !knownEnv[k] {
				t.Errorf("%s: environment variable %s is read by nothing", line, k)
			}
			words = words[1:]
		}
		if len(words) > 0 && words[0] == "./scripts/with-postgres.sh" {
			if st, err := os.Stat("../../scripts/with-postgres.sh"); err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("%s: scripts/with-postgres.sh missing or not executable", line)
			}
			words = words[1:]
		}
		if len(words) < 3 || words[0] != "go" || words[1] != "test" {
			t.Errorf("not a go test command: %q", line)
			continue
		}
		pkg := words[2]
		benches := benchmarksIn(t, filepath.Join("../..", pkg))
		var bench string
		for i := 3; i < len(words); i++ {
			flag, val := words[i], ""
			if i+1 < len(words) {
				val = words[i+1]
			}
			i++
			var err error
			switch flag {
			case "-run":
				_, err = regexp.Compile(val)
			case "-bench":
				bench = val
			case "-benchtime":
				if n, ok := strings.CutSuffix(val, "x"); ok {
					_, err = strconv.Atoi(n)
				} else {
					_, err = time.ParseDuration(val)
				}
			case "-count":
				_, err = strconv.Atoi(val)
			case "-timeout":
				_, err = time.ParseDuration(val)
			default:
				err = errUsage
			}
			if err != nil {
				t.Errorf("%s: %s %q: %v", line, flag, val, err)
			}
		}
		top, _, _ := strings.Cut(bench, "/")
		re, err := regexp.Compile(top)
		if bench == "" || err != nil {
			t.Errorf("%s: no valid -bench pattern", line)
			continue
		}
		matched := false
		for _, b := range benches {
			matched = matched || re.MatchString(b)
		}
		if !matched {
			t.Errorf("%s: -bench %s matches no benchmark of %s (%v)", line, bench, pkg, benches)
		}
	}
	if os.Getenv("KEFU_README_BENCH") != "1" {
		return
	}
	for _, line := range cmds {
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Benchmark") {
			t.Errorf("%s: %v\n%s", line, err, out)
		}
		t.Logf("%s\n%s", line, out)
	}
}

// benchmarksIn lists the Benchmark functions of the test files in dir.
func benchmarksIn(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s", dir)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Benchmark") {
				out = append(out, fd.Name.Name)
			}
		}
	}
	return out
}
