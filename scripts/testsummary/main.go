// Command testsummary reads `go test -json` on stdin and prints what CI needs to see: one line per
// package (as `go test` does), the output of every failed test, and at the end every skipped test
// with the reason it gave. It exits 1 when a test or package failed, or when the stream is empty.
//
//	go test -count=1 -json ./... | go run ./scripts/testsummary
//
// Hand-written because it is ~100 lines over the standard test2json format (cmd/test2json); the
// well-known summarizers (gotestsum) print the same but add a dependency and a download to CI.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json output.
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output, build-fail (Go 1.24+)
	Test       string
	Elapsed    float64
	Output     string
}

type key struct{ pkg, test string }

func main() { os.Exit(run(os.Stdin, os.Stdout)) }

func run(in io.Reader, out io.Writer) int {
	output := map[key][]string{} // test output, kept until the test ends
	var skipped, failed []string
	skipReason := map[string]string{}
	events, failures := 0, 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // build errors and the like come through as plain text
			continue
		}
		events++
		k := key{e.Package, e.Test}
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "build-fail":
			failures++
			fmt.Fprintf(out, "FAIL\t%s [build failed]\n", e.ImportPath)
		case "output":
			output[k] = append(output[k], e.Output)
		case "skip":
			if e.Test != "" {
				name := e.Package + " " + e.Test
				skipped = append(skipped, name)
				skipReason[name] = reason(output[k])
			}
			delete(output, k)
		case "fail":
			if e.Test == "" {
				failures++
				fmt.Fprintf(out, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
				fmt.Fprint(out, strings.Join(output[k], "")) // package-level output: panics, build errors
			} else {
				failed = append(failed, e.Package+" "+e.Test)
				fmt.Fprintf(out, "--- FAIL: %s %s (%.2fs)\n%s", e.Package, e.Test, e.Elapsed, strings.Join(output[k], ""))
			}
			delete(output, k)
		case "pass":
			if e.Test == "" {
				fmt.Fprintf(out, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
			delete(output, k)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testsummary:", err)
		return 1
	}
	sort.Strings(skipped)
	fmt.Fprintf(out, "\n%d skipped tests:\n", len(skipped))
	for _, s := range skipped {
		fmt.Fprintf(out, "  SKIP %s: %s\n", s, skipReason[s])
	}
	if len(failed) > 0 {
		fmt.Fprintf(out, "\n%d failed tests:\n  %s\n", len(failed), strings.Join(failed, "\n  "))
	}
	if events == 0 {
		fmt.Fprintln(out, "testsummary: no test events on stdin")
		return 1
	}
	if failures > 0 || len(failed) > 0 {
		return 1
	}
	return 0
}

// reason is the message a skipped test printed: its output without the === / --- lines and the
// file:line prefix.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "===") || strings.HasPrefix(l, "---") {
			continue
		}
		if i := strings.Index(l, ": "); i > 0 && strings.Contains(l[:i], ".go:") {
			l = l[i+2:]
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " / ")
}
