package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/kefu-dev/kefu/adapters/slack"
	"github.com/kefu-dev/kefu/reports/digest"
)

// DigestConfig schedules the report digests posted to the supervisors' Slack channel, at times in the
// config's time zone. Each is "off" (or empty) to disable it.
//
//	slack:
//	  digests:
//	    daily: "09:00"          # yesterday's numbers
//	    weekly: "mon 09:00"     # last week, Monday to Sunday
//	    monthly: "1 09:00"      # last month (day 1–28)
type DigestConfig struct {
	Daily   string `yaml:"daily"`
	Weekly  string `yaml:"weekly"`
	Monthly string `yaml:"monthly"`
}

// defaultDigestConfig posts all three at 09:00.
func defaultDigestConfig() DigestConfig {
	return DigestConfig{Daily: "09:00", Weekly: "mon 09:00", Monthly: "1 09:00"}
}

// validate reports every malformed entry.
func (d DigestConfig) validate() error {
	_, err := d.schedule(nil)
	return err
}

func (d DigestConfig) schedule(a *app) (digest.Schedule, error) {
	var s digest.Schedule
	var errs []string
	for _, x := range []struct {
		v     string
		parse func(string) (*digest.At, error)
		dst   **digest.At
	}{{d.Daily, digest.ParseDaily, &s.Daily}, {d.Weekly, digest.ParseWeekly, &s.Weekly}, {d.Monthly, digest.ParseMonthly, &s.Monthly}} {
		at, err := x.parse(x.v)
		if err != nil {
			errs = append(errs, err.Error())
		}
		*x.dst = at
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("slack.digests: %s", strings.Join(errs, "; "))
	}
	if a != nil {
		s.Loc = a.loc
	}
	return s, nil
}

// digestOptions are the report digests' options on the app (the Slack post function is added by
// newDigestScheduler).
func digestOptions(a *app) digest.Options {
	host, _ := os.Hostname()
	return digest.Options{
		DB:         a.db,
		Schedule:   digest.Schedule{Loc: a.loc},
		Lang:       a.cfg.Slack.Lang,
		T:          a.localizedT(),
		ConsoleURL: a.cfg.PublicURL + "/console",
		Owner:      fmt.Sprintf("%s-%d", host, os.Getpid()),
		Logger:     a.log,
	}
}

// newDigestScheduler builds the scheduler that posts dc's digests through sl. Run it in serve's
// errgroup (every process may run one: each digest is claimed once in the database).
func newDigestScheduler(a *app, dc DigestConfig, sl *slack.App) (*digest.Scheduler, error) {
	s, err := dc.schedule(a)
	if err != nil {
		return nil, err
	}
	o := digestOptions(a)
	o.Schedule = s
	o.Post = sl.PostDigest
	return digest.NewScheduler(o)
}
