package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/webhook"
)

// openAPIDoc is what the tests read of api/openapi.yaml.
type openAPIDoc struct {
	Servers []struct{ URL string }
	Paths   map[string]map[string]struct {
		Responses   map[string]any
		RequestBody *struct {
			Content map[string]struct {
				Schema struct {
					Ref string `yaml:"$ref"`
				}
			}
		} `yaml:"requestBody"`
	}
	Components struct {
		Schemas map[string]struct {
			Properties map[string]struct {
				Enum       []string
				Properties map[string]any
			}
		}
	}
}

func loadOpenAPI(t testing.TB) openAPIDoc {
	t.Helper()
	b, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// route finds the documented path template that path (after /api/v1) matches.
func (d openAPIDoc) route(method, path string) (string, bool) {
	path, _, _ = strings.Cut(path, "?")
	for tmpl, ops := range d.Paths {
		if _, ok := ops[strings.ToLower(method)]; !ok {
			continue
		}
		a, b := strings.Split(tmpl, "/"), strings.Split(path, "/")
		if len(a) != len(b) {
			continue
		}
		match := true
		for i := range a {
			if a[i] != b[i] && !strings.HasPrefix(a[i], "{") {
				match = false
			}
		}
		if match {
			return tmpl, true
		}
	}
	return "", false
}

// checkAnswer fails t unless the status is documented for the route and an error's code is in the
// Error schema's list.
func (d openAPIDoc) checkAnswer(t testing.TB, method, path string, status int, body map[string]any) {
	t.Helper()
	tmpl, ok := d.route(method, path)
	if !ok {
		if status != 404 {
			t.Errorf("%s %s: undocumented route answered %d", method, path, status)
		}
		return
	}
	if d.Paths[tmpl][strings.ToLower(method)].Responses[strconv.Itoa(status)] == nil {
		t.Errorf("%s %s: status %d is not documented for %s", method, path, status, tmpl)
	}
	if status >= 400 {
		code, _ := body["error"].(string)
		if !slices.Contains(d.Components.Schemas["Error"].Properties["error"].Enum, code) || body["message"] == "" {
			t.Errorf("%s %s: error %v is not a documented code with a message", method, path, body)
		}
	}
}

// jsonFields lists the JSON names of a struct type's fields.
func jsonFields(ty reflect.Type) []string {
	var fields []string
	for i := range ty.NumField() {
		fields = append(fields, strings.Split(ty.Field(i).Tag.Get("json"), ",")[0])
	}
	slices.Sort(fields)
	return fields
}

// TestOpenAPIMatchesHandlers: api/openapi.yaml documents exactly the routes the API serves, each
// with a success response and 401 (403 for write routes, and a request body); the Ticket, Customer,
// NewTicket and Error schemas have exactly the fields and codes the handlers use; every error code
// has its message in both languages. (The API tests check each live answer against it too.)
func TestOpenAPIMatchesHandlers(t *testing.T) {
	doc := loadOpenAPI(t)
	if len(doc.Servers) != 1 || doc.Servers[0].URL != apiPrefix {
		t.Errorf("servers %+v: want %s", doc.Servers, apiPrefix)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m, op := range ops {
			key := strings.ToUpper(m) + " " + path
			documented[key] = true
			if op.Responses["200"] == nil && op.Responses["201"] == nil {
				t.Errorf("%s: no success response documented", key)
			}
			if op.Responses["401"] == nil {
				t.Errorf("%s: response 401 undocumented", key)
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range apiRoutes {
		key := rt.method + " " + rt.path
		served[key] = true
		if !documented[key] {
			t.Errorf("%s is served but not in openapi.yaml", key)
			continue
		}
		op := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if rt.write && op.Responses["403"] == nil {
			t.Errorf("%s needs write scope but documents no 403", key)
		}
		if (rt.method == "POST") != (op.RequestBody != nil) {
			t.Errorf("%s: request body documented %v", key, op.RequestBody != nil)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("%s is documented but not served", key)
		}
	}
	if ref := doc.Paths["/tickets"]["post"].RequestBody.Content["application/json"].Schema.Ref; ref != "#/components/schemas/NewTicket" {
		t.Errorf("POST /tickets body schema %q", ref)
	}
	for name, ty := range map[string]reflect.Type{"Ticket": reflect.TypeFor[webhook.Ticket](), "Customer": reflect.TypeFor[apiCustomer](),
		"NewTicket": reflect.TypeFor[apiNewTicket]()} {
		props := slices.Sorted(maps.Keys(doc.Components.Schemas[name].Properties))
		if fields := jsonFields(ty); !slices.Equal(fields, props) {
			t.Errorf("%s schema %v, handler uses %v", name, props, fields)
		}
	}
	custProps := slices.Sorted(maps.Keys(doc.Components.Schemas["NewTicket"].Properties["customer"].Properties))
	if fields := jsonFields(reflect.TypeOf(apiNewTicket{}.Customer)); !slices.Equal(fields, custProps) {
		t.Errorf("NewTicket.customer schema %v, handler uses %v", custProps, fields)
	}
	codes := doc.Components.Schemas["Error"].Properties["error"].Enum
	if !slices.Equal(slices.Sorted(slices.Values(codes)), slices.Sorted(slices.Values(apiErrorCodes))) {
		t.Errorf("Error codes documented %v, used %v", codes, apiErrorCodes)
	}
	cat := locales.Default()
	for _, code := range apiErrorCodes {
		for _, lang := range cat.Langs() {
			if !cat.Has(lang, "api.error."+code) {
				t.Errorf("error %s has no %s message (locales/%s.integrate.yaml)", code, lang, lang)
			}
		}
	}
}

// TestRESTAPITokensAndScopes drives the API of a real server: tokens made with `kefu api-token`, read
// scope refused a write, write scope replying and changing a status as its agent, masking, revocation.
func TestRESTAPITokensAndScopes(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "kefu.db")
	env := dbEnv(dsn)
	if err := runDemo(ctx, []string{"--days", "3", "--per-day", "8", "--seed", "3"}, io.Discard, env); err != nil {
		t.Fatal(err)
	}
	read := apiToken(t, env, "create", "bi", "--scope", "read")
	write := apiToken(t, env, "create", "crm", "--scope", "write", "--as", "cli:crm-bot")
	if err := runAPIToken(ctx, []string{"create", "bad", "--scope", "write"}, io.Discard, env); err == nil {
		t.Error("a write token without --as was created")
	}
	s := startServer(t, dsn)
	doc := loadOpenAPI(t)
	call := func(method, path, tok string, body any) (int, map[string]any) {
		t.Helper()
		return apiCall(t, doc, s.url, method, path, tok, body)
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
	if code, out := call("POST", "/tickets/"+no+"/reply", read, map[string]string{"text": "hi"}); code != 403 || out["error"] != "insufficient_scope" {
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
	apiToken(t, env, "revoke", "bi")
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

// apiToken runs `kefu api-token ARGS…` against env's database; what it prints (a new token), trimmed.
func apiToken(t *testing.T, env func(string) string, args ...string) string {
	t.Helper()
	var b bytes.Buffer
	if err := runAPIToken(context.Background(), args, &b, env); err != nil {
		t.Fatalf("kefu api-token %v: %v", args, err)
	}
	return strings.TrimSpace(b.String())
}
