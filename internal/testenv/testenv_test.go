package testenv

import (
	"testing"
)

// fakeTB records what Skip and Missing do to a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	logs            int
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skip(...any)           { f.skipped = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }
func (f *fakeTB) Log(...any)            { f.logs++ }

func TestSkipFailsWhenRequired(t *testing.T) {
	for _, c := range []struct {
		env, need    string
		skip, failed bool
	}{
		{"", Postgres, true, false},
		{"browser", Postgres, true, false},
		{"postgres,browser", Postgres, false, true},
		{" browser , postgres ", Browser, false, true},
		{"postgresql", Postgres, true, false},
	} {
		t.Setenv(EnvRequire, c.env)
		f := &fakeTB{}
		Skip(f, c.need, "reason")
		if f.skipped != c.skip || f.failed != c.failed {
			t.Errorf("%s=%q Skip(%s): skipped %v failed %v; want %v %v", EnvRequire, c.env, c.need, f.skipped, f.failed, c.skip, c.failed)
		}
		f = &fakeTB{}
		Missing(f, c.need, "reason")
		if f.failed != c.failed || (f.logs == 1) == c.failed {
			t.Errorf("%s=%q Missing(%s): failed %v logs %d", EnvRequire, c.env, c.need, f.failed, f.logs)
		}
	}
}
