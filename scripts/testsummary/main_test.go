package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: no Chromium found\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestA","Elapsed":0}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: boom\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0.5}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"quiet\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestC","Elapsed":0.1}`,
		`{"Action":"fail","Package":"p","Elapsed":1.5}`,
		`{"Action":"pass","Package":"q","Elapsed":0.2}`,
		`{"Action":"skip","Package":"r","Elapsed":0}`,
	}, "\n")
	var out bytes.Buffer
	if code := run(strings.NewReader(in), &out); code != 1 {
		t.Errorf("exit %d with a failed test, want 1", code)
	}
	got := out.String()
	for _, want := range []string{"FAIL\tp\t1.500s", "ok  \tq\t0.200s", "--- FAIL: p TestB (0.50s)\n    b_test.go:3: boom",
		"1 skipped tests:\n  SKIP p TestA: no Chromium found\n", "1 failed tests:\n  p TestB"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet") {
		t.Errorf("a passing test's output is printed:\n%s", got)
	}

	out.Reset()
	if code := run(strings.NewReader(`{"Action":"pass","Package":"q","Elapsed":0.2}`), &out); code != 0 {
		t.Errorf("exit %d for a passing run: %s", code, out.String())
	}
	if code := run(strings.NewReader(""), &out); code != 1 {
		t.Error("an empty stream passes")
	}
}
