package main

// Command-line parsing shared by every command (issue 15: "a command line that does what the README
// says").
//
// What we chose and why: the standard library's flag package (one FlagSet per command, as before)
// plus parseArgs below, rather than a CLI framework (cobra, urfave/cli, kong). Commands are added in
// parallel, one file each, registered in the commands map (main.go); a framework would rewrite every
// command at once and change how they register, for what is here a few dozen lines. parseArgs gives
// every command the same rules:
//
//   - flags may stand before or after positional arguments: `kefu ticket claim GD… --as alice`;
//   - `--` ends the flags; everything after it is positional (text that begins with "-");
//   - an unknown flag is an error, never a positional — it would otherwise reach a customer as text;
//   - -h / --help anywhere (before `--`) prints the command's usage on stdout and exits 0 (main.go);
//   - too few or too many positional arguments is a usage error: exit 2 with one line on stderr.

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// usagef is a usage error (exit 2) with a one-line message.
func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// parseArgs parses args into fs wherever the flags stand and returns the positional arguments,
// which must number at least min and at most max (max < 0: any number). what names the positional
// arguments in the error ("TICKET", "NAME", "FILE").
func parseArgs(fs *flag.FlagSet, args []string, min, max int, what string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if name == "h" || name == "help" {
			return nil, flag.ErrHelp
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil, usageMsg("cli.args.unknown_flag", "flag", a)
		}
		flags = append(flags, a)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
			if i+1 >= len(args) {
				return nil, usageMsg("cli.args.needs_value", "flag", a)
			}
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, usagef("%s", flagError(err))
	}
	switch {
	case len(pos) < min:
		return nil, usageMsg("cli.args.missing", "what", what) // what may be a cli.what.* key
	case max >= 0 && len(pos) > max:
		return nil, usageMsg("cli.args.unexpected", "arg", pos[max])
	}
	return pos, nil
}

// badValue is the flag package's message for a value a flag refuses.
var badValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag -(\S+): (.*)$`)

// flagError renders the flag package's parse error in the operator's language.
func flagError(err error) string {
	s := err.Error()
	if m := badValue.FindStringSubmatch(s); m != nil {
		return msg("cli.args.bad_value", "value", m[1], "flag", m[2], "err", m[3])
	}
	if f, ok := strings.CutPrefix(s, "flag needs an argument: "); ok {
		return msg("cli.args.needs_value", "flag", f)
	}
	return strings.TrimPrefix(s, "flag provided but not defined: ")
}

// usageLine is the one line main prints for a usage error: without the "usage:" marker, a repeated
// command name ("kb: kb: …") or the usage text some errors append after a newline.
func usageLine(cmd string, err error) string {
	line := err.Error()
	line, _, _ = strings.Cut(line, "\n")
	for {
		before := line
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "kefu ")
		line = strings.TrimPrefix(line, cmd+":")
		if sub, rest, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(sub, cmd+" ") && !strings.ContainsAny(sub, `"'`) {
			line = rest // "kb eval: …"
		}
		line = strings.TrimPrefix(strings.TrimSpace(line), errUsage.Error()+":")
		if line == before {
			break
		}
	}
	line = strings.TrimSpace(line)
	if line == "" || line == errUsage.Error() {
		line = msg("cli.args.no_subcommand")
	}
	return line
}

// isHelp reports whether args ask for help: -h, --help or -help before any `--`.
func isHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}
