package main

import (
	"strings"
	"testing"
	"time"
)

func TestDigestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    DigestConfig
		bad  []string // substrings of the error
	}{
		{"defaults", defaultDigestConfig(), nil},
		{"all off", DigestConfig{Daily: "off", Weekly: "", Monthly: "off"}, nil},
		{"every entry wrong", DigestConfig{Daily: "9am", Weekly: "someday 09:00", Monthly: "31 09:00"}, []string{"daily", "weekly", "monthly"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.validate()
			if (err != nil) != (len(tc.bad) > 0) {
				t.Fatalf("validate = %v", err)
			}
			for _, s := range tc.bad {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	s, err := defaultDigestConfig().schedule(&app{loc: sh})
	if err != nil || s.Loc != sh || s.Daily == nil || s.Daily.Hour != 9 || s.Weekly.Weekday != time.Monday || s.Monthly.Day != 1 {
		t.Errorf("schedule = %+v, %v", s, err)
	}
}
