// Package testenv lets CI insist on the tests it is meant to run. A test that needs something the
// machine may lack (a PostgreSQL server, a Chromium) calls Skip instead of t.Skip: on a developer's
// machine it skips with the reason; when KEFU_CI_REQUIRE lists the need (.ci/run sets
// KEFU_CI_REQUIRE=postgres,browser), it fails instead, so CI cannot go green without them.
package testenv

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// EnvRequire names the needs (comma-separated: postgres, browser) whose tests must not skip.
const EnvRequire = "KEFU_CI_REQUIRE"

// Needs the tests use.
const (
	Postgres = "postgres"
	Browser  = "browser"
)

// Required reports whether KEFU_CI_REQUIRE lists need.
func Required(need string) bool {
	return slices.Contains(strings.Split(strings.ReplaceAll(os.Getenv(EnvRequire), " ", ""), ","), need)
}

// Skip skips t for reason, or fails it when need is required.
func Skip(t testing.TB, need, reason string) {
	t.Helper()
	if Required(need) {
		t.Fatalf("%s is required here (%s=%s) but missing: %s", need, EnvRequire, os.Getenv(EnvRequire), reason)
		return
	}
	t.Skip(reason)
}

// Missing is for a need that only narrows a test (a database left out of a loop): it logs reason,
// or fails t when need is required.
func Missing(t testing.TB, need, reason string) {
	t.Helper()
	if Required(need) {
		t.Fatalf("%s is required here (%s=%s) but missing: %s", need, EnvRequire, os.Getenv(EnvRequire), reason)
		return
	}
	t.Log(reason)
}
