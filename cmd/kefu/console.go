package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kefu-dev/kefu/console"
)

// newConsole builds the supervisors' web console. On the very first start (no account yet) it creates
// an "admin" account and prints its password once, so the zero-setup run shows the dashboard too.
func newConsole(ctx context.Context, a *app, banner io.Writer, url string) (http.Handler, error) {
	pw, created, err := console.EnsureAdmin(ctx, a.db)
	if err != nil {
		return nil, fmt.Errorf("console: first admin: %w", err)
	}
	if created {
		fmt.Fprintf(banner, "\n  console: sign in at %s/console/ as \"admin\" with password %s\n  (shown once; change it with `kefu user passwd admin`)\n", url, pw)
		a.log.Info("console admin account created", "user", "admin")
	}
	return console.New(console.Options{
		DB:     a.db,
		Loc:    a.loc,
		T:      a.localizedT(),
		Logger: a.log,
		Secure: strings.HasPrefix(a.cfg.PublicURL, "https://"),
		// the sign-in backoff keys on the client, read from X-Forwarded-For of trusted proxies only
		ClientIP: a.cfg.Security.clientIPs().IP,
	})
}
