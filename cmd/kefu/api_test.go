package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kefu-dev/kefu/webhook"
)

// TestOpenAPIMatchesHandlers: api/openapi.yaml documents exactly the routes the API serves, each
// with the responses the handler can give (200, 401; 403 for write routes), and the Ticket schema
// has exactly the JSON fields the handler writes.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	b, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Servers []struct{ URL string }
		Paths   map[string]map[string]struct {
			Responses map[string]any
		}
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any
			}
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != apiPrefix {
		t.Errorf("servers %+v: want %s", doc.Servers, apiPrefix)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m, op := range ops {
			key := strings.ToUpper(m) + " " + path
			documented[key] = true
			for _, code := range []string{"200", "401"} {
				if op.Responses[code] == nil {
					t.Errorf("%s: response %s undocumented", key, code)
				}
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range apiRoutes {
		key := rt.method + " " + rt.path
		served[key] = true
		if !documented[key] {
			t.Errorf("%s is served but not in openapi.yaml", key)
		}
		if rt.write && doc.Paths[rt.path][strings.ToLower(rt.method)].Responses["403"] == nil {
			t.Errorf("%s needs write scope but documents no 403", key)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("%s is documented but not served", key)
		}
	}
	var fields []string
	ty := reflect.TypeFor[webhook.Ticket]()
	for i := range ty.NumField() {
		fields = append(fields, strings.Split(ty.Field(i).Tag.Get("json"), ",")[0])
	}
	var props []string
	for p := range doc.Components.Schemas["Ticket"].Properties {
		props = append(props, p)
	}
	slices.Sort(fields)
	slices.Sort(props)
	if !slices.Equal(fields, props) {
		t.Errorf("Ticket schema %v, handler writes %v", props, fields)
	}
}

// TestRESTAPITokensAndScopes drives the API of a real server: tokens made with `kefu api-token`, read
// scope refused a write, write scope replying and changing a status as its agent, masking, revocation.
func TestRESTAPITokensAndScopes(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	env := func(k string) string {
		if k == "KEFU_DATABASE_URL" {
			return dsn
		}
		return ""
	}
	if err := runDemo(ctx, []string{"--days", "3", "--per-day", "8", "--seed", "3"}, io.Discard, env); err != nil {
		t.Fatal(err)
	}
	token := func(args ...string) string {
		t.Helper()
		var b bytes.Buffer
		if err := runAPIToken(ctx, args, &b, env); err != nil {
			t.Fatalf("kefu api-token %v: %v", args, err)
		}
		return strings.TrimSpace(b.String())
	}
	read := token("create", "bi", "--scope", "read")
	write := token("create", "crm", "--scope", "write", "--as", "cli:crm-bot")
	if err := runAPIToken(ctx, []string{"create", "bad", "--scope", "write"}, io.Discard, env); err == nil {
		t.Error("a write token without --as was created")
	}
	s := startServer(t, dsn)
	call := func(method, path, tok string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, s.url+apiPrefix+path, rd)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := call("GET", "/tickets", "", nil); code != 401 || out["error"] != "unauthorized" {
		t.Errorf("no token: %d %v", code, out)
	}
	if code, _ := call("GET", "/tickets", "kefu_forged", nil); code != 401 {
		t.Errorf("a forged token: %d", code)
	}
	code, out := call("GET", "/tickets?status=open,in_progress", read, nil)
	list, _ := out["tickets"].([]any)
	if code != 200 || len(list) == 0 {
		t.Fatalf("read token lists tickets: %d %v", code, out)
	}
	tk := list[0].(map[string]any)
	no := tk["no"].(string)
	if c, _ := tk["customer"].(string); c != "" && !strings.Contains(c, "*") {
		t.Errorf("customer name not masked: %q", c)
	}
	if code, out := call("GET", "/tickets/"+no, read, nil); code != 200 || out["ticket"] == nil {
		t.Errorf("show %s: %d %v", no, code, out)
	}
	if code, _ := call("GET", "/tickets/GD19990101001", read, nil); code != 404 {
		t.Errorf("unknown ticket: %d", code)
	}
	if code, out := call("GET", "/reports?from=2000-01-01", read, nil); code != 200 || out["tickets_created"] == nil {
		t.Errorf("reports: %d %v", code, out)
	}
	if code, _ := call("GET", "/reports?from=yesterday", read, nil); code != 400 {
		t.Errorf("bad date: %d", code)
	}
	// Scopes: read may not write.
	if code, out := call("POST", "/tickets/"+no+"/reply", read, map[string]string{"text": "hi"}); code != 403 || out["error"] != "forbidden" {
		t.Errorf("read token replying: %d %v", code, out)
	}
	if code, _ := call("POST", "/tickets/"+no+"/reply", write, map[string]string{"txt": "typo"}); code != 400 {
		t.Errorf("unknown field: %d", code)
	}
	if code, out := call("POST", "/tickets/"+no+"/reply", write, map[string]string{"text": "您好，我们已安排处理"}); code != 200 {
		t.Fatalf("write token replying: %d %v", code, out)
	}
	if code, out := call("POST", "/tickets/"+no+"/status", write, map[string]string{"status": "pending"}); code != 200 || out["ticket"].(map[string]any)["status"] != "pending" {
		t.Errorf("write token setting status: %d %v", code, out)
	}
	show := s.cli("show", no)
	mustContain(t, "ticket show after the API calls", show, "cli:crm-bot", "您好，我们已安排处理")
	if code, _ := call("GET", "/nothing", read, nil); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
	// Revoked: refused at once.
	token("revoke", "bi")
	if code, _ := call("GET", "/tickets", read, nil); code != 401 {
		t.Errorf("revoked token: %d", code)
	}
	var lst bytes.Buffer
	runAPIToken(ctx, []string{"list"}, &lst, env)
	mustContain(t, "api-token list", lst.String(), "bi", "crm", "write", "cli:crm-bot")
	if strings.Contains(lst.String(), write) {
		t.Error("api-token list shows a token")
	}
}
