package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/console"
	"github.com/kefu-dev/kefu/storage"
)

// isTerminal reports whether w is a character device (a terminal), not a pipe or file a log
// collector reads. Hand-written (os.ModeCharDevice) rather than golang.org/x/term for one check.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// writeSecretFile writes text to path with mode 0600 (the directory is created 0700 if missing),
// replacing any earlier file; the file is never readable by others, not even while being written.
func writeSecretFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	os.Remove(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// initialPasswordPlaces are where the first admin's password file may go, in order: beside the
// encryption key (secretsDir), else in the data directory — the key's directory may be one kefu
// cannot write, as /run/secrets of a container where the key is a Docker or Kubernetes secret.
func initialPasswordPlaces(secretsDir, dataDir string) []string {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	first := filepath.Join(secretsDir, initialPasswordFile)
	second := abs(filepath.Join(dataDir, initialPasswordFile))
	if second == abs(first) {
		return []string{first}
	}
	return []string{first, second}
}

// writeSecretFileFirst writes text (as writeSecretFile) to the first of paths where that works and
// returns that path.
func writeSecretFileFirst(paths []string, text string) (string, error) {
	var errs []error
	for _, p := range paths {
		err := writeSecretFile(p, text)
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// initialPasswordFile is where the first admin's generated password goes when there is no terminal.
const initialPasswordFile = "initial-admin-password"

// newConsole builds the supervisors' web console. On the very first start (no account yet) it creates
// an "admin" account, so the zero-setup run shows the dashboard too. Its generated password never
// enters the log stream (issue 15: a raw line in JSON log mode is kept by any log collector): it is
// shown on the terminal when kefu runs in one with text logs, and otherwise written to a file only
// the server's user may read (mode 0600) next to the database; the banner says which. The console
// makes the admin choose their own password at the first sign-in and then removes the file.
func newConsole(ctx context.Context, a *app, banner io.Writer, url string) (http.Handler, error) {
	places := initialPasswordPlaces(a.db.SecretsDir(a.cfg.DatabaseURL), storage.DataDir(a.cfg.DatabaseURL))
	pwFile := places[0]
	for _, p := range places { // a server restarted before the first sign-in finds the file it wrote
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			pwFile = p
			break
		}
	}
	pw, created, err := console.EnsureAdmin(ctx, a.db)
	if err != nil {
		return nil, fmt.Errorf("console: first admin: %w", err)
	}
	if created {
		if isTerminal(banner) && a.cfg.Log.Format != "json" {
			fmt.Fprintf(banner, "\n  %s\n", strings.ReplaceAll(msg("cli.serve.console_password", "url", url, "pw", pw), "\n", "\n  "))
		} else {
			if pwFile, err = writeSecretFileFirst(places, "admin\n"+pw+"\n"); err != nil {
				return nil, fmt.Errorf("console: first admin: %w", err)
			}
			fmt.Fprintf(banner, "\n  %s\n", msg("cli.serve.console_file", "url", url, "file", pwFile))
		}
		a.log.Info("console admin account created; its password must be changed at the first sign-in", "user", "admin")
	}
	return console.New(console.Options{
		InitialPasswordFile: pwFile,
		DB:                  a.db,
		Loc:                 a.loc,
		ChannelTargets:      channelTargets(a.policy),
		T:                   a.localizedT(),
		Logger:              a.log,
		Secure:              strings.HasPrefix(a.cfg.PublicURL, "https://"),
		// the sign-in backoff keys on the client, read from X-Forwarded-For of trusted proxies only
		ClientIP: a.cfg.Security.clientIPs().IP,
		Improve:  a.improveService(),
		Context:  ctx, // live feed streams end with the server
		// the agents' inbox: the engine's desk operations, and SLA acknowledgements as the CLI and Slack do them
		Desk:              a.engine,
		AckSLA:            a.ackSLA,
		HandOff:           a.consoleHandOff(),
		AgentsSeeAllTeams: a.cfg.Console.AgentsSeeAllTeams,
		// the admins' webhooks page pings through the sender that delivers the outbox's webhook rows
		Webhooks: newWebhookSender(a.db, a.cfg),
	})
}

// consoleHandOff is the WeCom tickets' hand-off button: shown only when wecom.servicers maps agents.
func (a *app) consoleHandOff() func(ctx context.Context, ac bot.Actor, no string) (string, bool, error) {
	if len(a.cfg.WeCom.Servicers) == 0 {
		return nil
	}
	return func(ctx context.Context, ac bot.Actor, no string) (string, bool, error) {
		return a.wecomHandOff(ctx, ac, no, ac.ID, a.cfg.DefaultLang)
	}
}
