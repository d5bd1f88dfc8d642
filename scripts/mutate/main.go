// Command mutate is a small mutation tester: it applies one-line breaks to a package's production
// code, one at a time, and runs the package's tests to see whether they notice. Each mutant is
// passed to `go test -overlay`, so the working tree is never modified (an interrupted run leaves
// nothing behind).
//
//	go run ./scripts/mutate -n 20 ./bot ./storage ./flows ./adapters/telegram ./reports
//
// Mutants: a comparison flipped (== ↔ !=, < ↔ >=, > ↔ <=), && ↔ ||, + ↔ - on numbers, and a guard
// removed (an if condition replaced by false, as a reviewer deleting a check would). It samples n
// of them per package (-seed makes the sample repeatable), runs each with a time limit derived from
// the package's baseline, and prints the score: killed / (killed + survived); mutants that do not
// compile are not counted. Survivors are listed as file:line with the change.
//
// Written here rather than using a mutation framework: go-gremlins and go-mutesting rebuild and run
// whole modules per mutant and need their own installs; on a shared 2-core machine a bounded sample
// per package through -overlay is what fits. It is ~250 lines of go/ast.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type mutant struct {
	file        string // absolute path
	line        int
	start, end  int // byte offsets of the replaced text
	old, repl   string
	description string
}

var flips = map[token.Token]string{
	token.EQL: "!=", token.NEQ: "==", token.LSS: ">=", token.GEQ: "<", token.GTR: "<=", token.LEQ: ">",
	token.LAND: "||", token.LOR: "&&",
}

func main() {
	n := flag.Int("n", 15, "mutants sampled per package (0: all)")
	seed := flag.Uint64("seed", 1, "sampling seed")
	run := flag.String("run", "", "go test -run pattern (default: all tests of the package)")
	minTimeout := flag.Duration("timeout", 60*time.Second, "minimum time limit per mutant")
	verbose := flag.Bool("v", false, "print every mutant's outcome")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mutate [-n N] [-seed S] [-run RE] ./pkg…")
		os.Exit(2)
	}
	tmp, err := os.MkdirTemp("", "mutate")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)
	type result struct {
		pkg                       string
		killed, survived, invalid int
		survivors                 []string
	}
	var results []result
	for _, pkg := range flag.Args() {
		ms, err := mutants(pkg)
		if err != nil {
			fatal(err)
		}
		rng := rand.New(rand.NewPCG(*seed, 7))
		rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		if *n > 0 && len(ms) > *n {
			ms = ms[:*n]
		}
		sort.Slice(ms, func(i, j int) bool {
			if ms[i].file != ms[j].file {
				return ms[i].file < ms[j].file
			}
			return ms[i].start < ms[j].start
		})
		start := time.Now()
		if out, ok, _ := goTest(context.Background(), pkg, *run, ""); !ok {
			fatal(fmt.Errorf("%s: tests fail without mutation:\n%s", pkg, out))
		}
		limit := max(*minTimeout, 3*time.Since(start))
		r := result{pkg: pkg}
		for i, m := range ms {
			overlay, err := writeOverlay(tmp, i, m)
			if err != nil {
				fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			out, ok, timedOut := goTest(ctx, pkg, *run, overlay)
			cancel()
			where := fmt.Sprintf("%s:%d %s", rel(m.file), m.line, m.description)
			switch {
			case strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"):
				r.invalid++
				if *verbose {
					fmt.Printf("  invalid  %s\n", where)
				}
			case ok:
				r.survived++
				r.survivors = append(r.survivors, where)
				if *verbose {
					fmt.Printf("  SURVIVED %s\n", where)
				}
			default:
				r.killed++
				if *verbose {
					how := "failed"
					if timedOut {
						how = "timed out"
					}
					fmt.Printf("  killed   %s (%s)\n", where, how)
				}
			}
		}
		results = append(results, r)
		fmt.Printf("%s: %d/%d killed (%s), %d not compiling, %v\n", pkg, r.killed, r.killed+r.survived,
			score(r.killed, r.survived), r.invalid, time.Since(start).Round(time.Second))
		for _, s := range r.survivors {
			fmt.Printf("  survived: %s\n", s)
		}
	}
	fmt.Println("\n| package | mutants | killed | score |\n|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %s | %d | %d | %s |\n", r.pkg, r.killed+r.survived, r.killed, score(r.killed, r.survived))
	}
}

func score(k, s int) string {
	if k+s == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(k)/float64(k+s))
}

func rel(p string) string {
	wd, _ := os.Getwd()
	if r, err := filepath.Rel(wd, p); err == nil {
		return r
	}
	return p
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutate:", err)
	os.Exit(1)
}

// mutants lists the mutation points of the package's non-test files.
func mutants(dir string) ([]mutant, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(abs, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []mutant
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		off := func(p token.Pos) int { return fset.Position(p).Offset }
		line := func(p token.Pos) int { return fset.Position(p).Line }
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BinaryExpr:
				if repl, ok := flips[x.Op]; ok {
					o := off(x.OpPos)
					out = append(out, mutant{file: path, line: line(x.OpPos), start: o, end: o + len(x.Op.String()),
						old: x.Op.String(), repl: repl, description: x.Op.String() + " → " + repl})
				}
				if (x.Op == token.ADD || x.Op == token.SUB) && !isStringish(x) {
					repl := map[token.Token]string{token.ADD: "-", token.SUB: "+"}[x.Op]
					o := off(x.OpPos)
					out = append(out, mutant{file: path, line: line(x.OpPos), start: o, end: o + 1,
						old: x.Op.String(), repl: repl, description: x.Op.String() + " → " + repl})
				}
			case *ast.IfStmt:
				if x.Init == nil && endsInReturn(x.Body) {
					s, e := off(x.Cond.Pos()), off(x.Cond.End())
					out = append(out, mutant{file: path, line: line(x.Cond.Pos()), start: s, end: e,
						old: string(src[s:e]), repl: "false", description: "guard removed: if " + short(string(src[s:e])) + " → if false"})
				}
			}
			return true
		})
	}
	return out, nil
}

// isStringish guesses string concatenation (a string literal on either side); a wrong guess only
// makes a mutant that does not compile, which is not counted.
func isStringish(x *ast.BinaryExpr) bool {
	for _, e := range []ast.Expr{x.X, x.Y} {
		if l, ok := e.(*ast.BasicLit); ok && l.Kind == token.STRING {
			return true
		}
	}
	return false
}

func endsInReturn(b *ast.BlockStmt) bool {
	if len(b.List) == 0 {
		return false
	}
	_, ok := b.List[len(b.List)-1].(*ast.ReturnStmt)
	return ok
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// writeOverlay writes the mutated file and an overlay JSON for go test; it returns the JSON's path.
func writeOverlay(tmp string, i int, m mutant) (string, error) {
	src, err := os.ReadFile(m.file)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.Write(src[:m.start])
	b.WriteString(m.repl)
	b.Write(src[m.end:])
	mutated := filepath.Join(tmp, fmt.Sprintf("m%d_%s", i, filepath.Base(m.file)))
	if err := os.WriteFile(mutated, b.Bytes(), 0o600); err != nil {
		return "", err
	}
	js, _ := json.Marshal(map[string]any{"Replace": map[string]string{m.file: mutated}})
	overlay := filepath.Join(tmp, fmt.Sprintf("m%d.json", i))
	return overlay, os.WriteFile(overlay, js, 0o600)
}

// goTest runs the package's tests (with the overlay when set); ok reports a pass.
func goTest(ctx context.Context, pkg, run, overlay string) (out string, ok, timedOut bool) {
	args := []string{"test", "-count=1", "-failfast", "-p=1", "-vet=off"}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	if run != "" {
		args = append(args, "-run", run)
	}
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	return string(b), err == nil, ctx.Err() != nil
}
