package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/internal/testlog"
)

// envExec makes the test binary run `kefu ARGS…` (a JSON list) instead of the tests: the multi-process
// tests start real kefu processes from the binary that is already built, without a `go build` of
// their own, and can kill them with SIGKILL.
const envExec = "KEFU_TEST_EXEC"

func TestMain(m *testing.M) {
	// The tests read the command line's English messages (README examples show KEFU_LANG=en output);
	// the ones about zh-CN set KEFU_LANG themselves. Child processes inherit it.
	if _, ok := os.LookupEnv("KEFU_LANG"); !ok {
		os.Setenv("KEFU_LANG", "en")
	}
	if args := os.Getenv(envExec); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			fmt.Fprintln(os.Stderr, envExec+":", err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, a, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// kefuProc is a `kefu serve` process.
type kefuProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	url  string
	log  *testlog.Buffer
	done chan struct{}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startKefu starts `kefu serve` as a separate process with env (KEY=value) on top of this process's
// environment and waits until /readyz answers. It is killed at cleanup if still running; its log is
// shown when the test fails (always with KEFU_TEST_LOG=1).
func startKefu(t testing.TB, env ...string) *kefuProc {
	t.Helper()
	p := launchKefu(t, []string{"serve"}, env...)
	p.waitReady()
	return p
}

// launchKefu starts `kefu ARGS…` (serve) on a free loopback port without waiting for it.
func launchKefu(t testing.TB, args []string, env ...string) *kefuProc {
	t.Helper()
	addr := freeAddr(t)
	a, _ := json.Marshal(args)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Dir = t.TempDir() // its data/ (the console's first password …) stays out of the source tree
	cmd.Env = append(os.Environ(), envExec+"="+string(a), "KEFU_ADDR="+addr, "KEFU_METRICS_ADDR=off", "KEFU_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, env...)
	p := &kefuProc{t: t, cmd: cmd, url: "http://" + addr, log: &testlog.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() || os.Getenv("KEFU_TEST_LOG") != "" {
			t.Logf("log of kefu serve on %s:\n%s", addr, p.log.String())
		}
	})
	return p
}

// waitReady waits until the process answers /readyz with 200.
func (p *kefuProc) waitReady() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			p.t.Fatalf("kefu serve exited at start:\n%s", p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("kefu serve on %s not ready after 30 s:\n%s", p.url, p.log.String())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// kill sends SIGKILL: no shutdown code runs, as when the machine or the OOM killer stops it.
func (p *kefuProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// stop asks for a graceful shutdown (SIGTERM) and waits for it.
func (p *kefuProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Errorf("kefu serve did not stop within 15 s of SIGTERM")
		p.kill()
	}
}
