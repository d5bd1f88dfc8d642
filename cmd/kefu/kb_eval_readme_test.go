package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestReadmeSampleEval runs the README's `kefu kb eval --queries kb/testdata/sample-eval.jsonl` as
// written (from the repository root) and checks that the numbers the README quotes are the ones it
// prints (kb's TestSampleEvalFloor holds the floor).
func TestReadmeSampleEval(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "go run ./cmd/kefu kb eval --queries kb/testdata/sample-eval.jsonl"
	if !bytes.Contains(readme, []byte("`"+cmd+"`")) {
		t.Fatalf("README does not show %q", cmd)
	}
	t.Chdir("../..")
	// kb eval prints to the process's stdout: capture it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	var out, errOut bytes.Buffer
	done := make(chan struct{})
	go func() { out.ReadFrom(r); close(done) }()
	code := run(context.Background(), strings.Fields(cmd)[3:], w, &errOut)
	os.Stdout = saved
	w.Close()
	<-done
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"in-scope top-1 accuracy (no threshold): 0.9231 (72/78)", "in-scope top-1 accuracy: 0.8846 (69/78)",
		"confident wrong answers (score >= answer threshold, wrong entry): 0.0102 (1/98)", "answered right (score >= answer threshold, right entry): 0.5816 (57/98)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("kb eval output lacks %q (the README quotes it):\n%s", want, out.String())
		}
	}
	for _, quoted := range []string{"0.923 (72/78)", "right and not refused 0.885", "20/20", "confident wrong 1/98", "answered right 57/98"} {
		if !bytes.Contains(readme, []byte(quoted)) {
			t.Errorf("README no longer quotes %q", quoted)
		}
	}
}
