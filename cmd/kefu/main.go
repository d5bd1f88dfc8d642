// Command kefu runs the kefu customer-service bot and its tools.
//
//	kefu serve               run the bot: web chat, configured channels, outbox, SLA
//	kefu ticket …            work tickets from the command line
//	kefu kb …                FAQ library: import, list, match, eval, stats
//	kefu config example      print a documented sample kefu.yaml
//
// Globals live only here: the subcommand table and the build version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata"

	"github.com/kefu-dev/kefu/locales" // time zones work on minimal images without /usr/share/zoneinfo
)

// command is one `kefu NAME …` subcommand. Each lives in its own file and registers itself in init.
// Its one-line summary (kefu --help) is cli.cmd.NAME in locales/*.cli.yaml, its usage (kefu NAME
// --help) cli.usage.NAME, or "kefu NAME: " and the summary when there is none.
type command struct {
	run func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

// errUsage marks an error caused by bad arguments: main prints it with the usage hint and exits 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	defer setCLILang(chooseCLILang(os.Getenv, configCLILang(args, os.Getenv)))()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		say(stderr, "cli.unknown_command", "cmd", args[0])
		return 2
	}
	help := func() int {
		text := "kefu " + args[0] + ": " + msg("cli.cmd."+args[0])
		if k := "cli.usage." + args[0]; locales.Default().Has(locales.En, k) {
			text = msg(k)
		}
		fmt.Fprintln(stdout, strings.TrimSpace(text))
		return 0
	}
	// --help anywhere before `--` (see cli.go), for every command alike
	if isHelp(args[1:]) {
		return help()
	}
	if err := c.run(ctx, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return help()
		}
		if errors.Is(err, errUsage) {
			say(stderr, "cli.usage_error", "cmd", args[0], "err", usageLine(args[0], err))
			return 2
		}
		fmt.Fprintf(stderr, "kefu %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	say(w, "cli.help.title")
	fmt.Fprintln(w)
	say(w, "cli.help.usage")
	fmt.Fprintln(w)
	say(w, "cli.help.commands")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, msg("cli.cmd."+n))
	}
	fmt.Fprintln(w)
	say(w, "cli.help.more")
}
