package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func init() {
	commands["healthcheck"] = command{
		run: func(ctx context.Context, args []string) error {
			return runHealthcheck(ctx, args, os.Stdout, os.Getenv)
		},
	}
}

// runHealthcheck asks the server on this machine for /readyz. The distroless image has no curl or wget,
// so the container's HEALTHCHECK runs `kefu healthcheck`. The address comes from --url, or from the
// configured addr (KEFU_ADDR), on the loopback interface.
func runHealthcheck(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (default ./kefu.yaml when present, or $KEFU_CONFIG)")
	url := fs.String("url", "", "readiness URL (default http://127.0.0.1:PORT/readyz from addr)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if *url == "" {
		cfg, err := loadConfig(*cfgPath, getenv)
		if err != nil {
			return err
		}
		_, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return fmt.Errorf("addr %q: %w", cfg.Addr, err)
		}
		*url = "http://" + net.JoinHostPort("127.0.0.1", port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("%w: --url: %w", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return failMsg(err, "cli.health.not_ready")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprint(out, string(body))
	if resp.StatusCode != http.StatusOK {
		return failMsg(nil, "cli.health.not_ready_status", "status", resp.Status, "body", strings.TrimSpace(string(body)))
	}
	return nil
}
