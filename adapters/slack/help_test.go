package slack

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/locales"
)

// TestHelpNamesEveryCommand: `/kefu help` names every verb exec dispatches (read from exec's switch
// on c.Verb in commands.go), in both languages, so a command added later is never one agents cannot
// discover.
func TestHelpNamesEveryCommand(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "commands.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var verbs []string
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "exec" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok {
				return true
			}
			if sel, ok := sw.Tag.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Verb" {
				return true
			}
			for _, st := range sw.Body.List {
				for _, e := range st.(*ast.CaseClause).List {
					if lit, ok := e.(*ast.BasicLit); ok {
						v, _ := strconv.Unquote(lit.Value)
						verbs = append(verbs, v)
					}
				}
			}
			return false
		})
		return false
	})
	if len(verbs) < 10 {
		t.Fatalf("found %d verbs in exec's switch (%v): the test no longer reads commands.go right", len(verbs), verbs)
	}
	cat := locales.Default()
	for _, lang := range []string{"zh-CN", "en"} {
		help := cat.T(lang, "slack.help", nil)
		for _, v := range verbs {
			if v == "help" {
				continue
			}
			if !strings.Contains(help, "`"+v) && !strings.Contains(help, "|"+v+"|") && !strings.Contains(help, "|"+v+" ") {
				t.Errorf("%s slack.help does not name /kefu %s", lang, v)
			}
		}
	}
}
