package storage

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSealedModelsRegistered: every model (table) of this package with a `serializer:pii` field is in
// sealedModels, so that key rotation and erasure cover it (a new table with personal data must be
// added there).
func TestSealedModelsRegistered(t *testing.T) {
	registered := map[string]bool{}
	for _, m := range sealedModels {
		registered[reflect.TypeOf(m).Elem().Name()] = true
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	// Tables are the types with a TableName method; other structs with the tag only read sealed
	// columns (scan targets of joins).
	tables := map[string]bool{}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "TableName" && fd.Recv != nil && len(fd.Recv.List) == 1 {
				if id, ok := fd.Recv.List[0].Type.(*ast.Ident); ok {
					tables[id.Name] = true
				}
			}
		}
	}
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fl := range st.Fields.List {
				if fl.Tag != nil && strings.Contains(fl.Tag.Value, "serializer:pii") && tables[ts.Name.Name] {
					found++
					if !registered[ts.Name.Name] {
						t.Errorf("%s (%s) has a personal-data field but is not in sealedModels (storage/rotate.go)", ts.Name.Name, f)
					}
					break
				}
			}
			return true
		})
	}
	if found < 10 {
		t.Fatalf("found only %d models with personal data: the scan is broken", found)
	}
	cols, err := SealedColumns()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"tickets.customer_phone": false, "messages.text": false, "ticket_events.text": false, "identities.platform_user_id": false}
	for _, c := range cols {
		if _, ok := want[c.Table+"."+c.Column]; ok {
			want[c.Table+"."+c.Column] = true
		}
		if c.Table == "tickets" && c.Column == "customer_phone" && c.Hash != "customer_phone_hash" {
			t.Errorf("tickets.customer_phone hash twin %q", c.Hash)
		}
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("SealedColumns lacks %s", k)
		}
	}
}
