package main

import (
	"context"
	_ "embed"
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
		summary: "config example | check [FILE] | env: print a documented kefu.yaml, validate one, list the KEFU_* variables",
		run:     runConfig,
	}
}

func runConfig(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: kefu config example | kefu config check [FILE] | kefu config env", errUsage)
	}
	switch args[0] {
	case "example":
		fmt.Print(exampleConfig)
		return nil
	case "env":
		printEnvMapping(os.Stdout)
		return nil
	case "check":
		path := ""
		if len(args) > 1 {
			path = args[1]
		}
		if _, err := loadConfig(path, os.Getenv); err != nil {
			return err
		}
		fmt.Println("ok")
		return nil
	}
	return fmt.Errorf("%w: unknown config subcommand %q", errUsage, args[0])
}
