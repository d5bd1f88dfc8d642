package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"os"
)

// exampleConfig is the documented sample printed by `kefu config example`; config_test.go checks that
// it loads and equals the defaults where it says so.
//
//go:embed kefu.example.yaml
var exampleConfig string

func init() {
	commands["config"] = command{
		run: runConfig,
	}
}

func runConfig(ctx context.Context, args []string) error {
	pos, err := parseArgs(flag.NewFlagSet("config", flag.ContinueOnError), args, 1, 2, "cli.what.config_sub")
	if err != nil {
		return err
	}
	switch pos[0] {
	case "example":
		if len(pos) > 1 {
			return usageMsg("cli.args.unexpected", "arg", pos[1])
		}
		fmt.Print(exampleConfig)
		return nil
	case "env":
		if len(pos) > 1 {
			return usageMsg("cli.args.unexpected", "arg", pos[1])
		}
		printEnvMapping(os.Stdout)
		return nil
	case "check":
		path := ""
		if len(pos) > 1 {
			path = pos[1]
		}
		if _, err := loadConfig(path, os.Getenv); err != nil {
			return err
		}
		fmt.Println(msg("cli.config.ok"))
		return nil
	}
	return usageMsg("cli.config.unknown_sub", "sub", pos[0])
}
