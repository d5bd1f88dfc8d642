package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMutantsAndOverlay: the mutation points of a small package, and the overlay that applies one
// without touching the file.
func TestMutantsAndOverlay(t *testing.T) {
	dir := t.TempDir()
	src := "package p\n\nfunc f(a, b int) int {\n\tif a == b {\n\t\treturn 0\n\t}\n\treturn a + b\n}\n"
	path := filepath.Join(dir, "p.go")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\nfunc g() bool { return 1 < 2 }\n"), 0o600)
	ms, err := mutants(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.description)
	}
	want := "guard removed: if a == b → if false|== → !=|+ → -"
	if strings.Join(got, "|") != want {
		t.Fatalf("mutants %q, want %q (test files are not mutated)", strings.Join(got, "|"), want)
	}
	tmp := t.TempDir()
	overlay, err := writeOverlay(tmp, 0, ms[0])
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ Replace map[string]string }
	b, _ := os.ReadFile(overlay)
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	mutated, _ := os.ReadFile(o.Replace[path])
	if !strings.Contains(string(mutated), "if false {") || strings.Contains(string(mutated), "a == b") {
		t.Errorf("mutated file:\n%s", mutated)
	}
	if orig, _ := os.ReadFile(path); string(orig) != src {
		t.Error("the original file was modified")
	}
}
