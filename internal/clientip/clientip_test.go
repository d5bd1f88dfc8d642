package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestIP(t *testing.T) {
	r, err := New([]string{"10.0.0.0/8", "192.168.1.1", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote string
		xff          []string
		res          *Resolver
		want         string
	}{
		{"no proxy", "203.0.113.7:1234", nil, r, "203.0.113.7"},
		{"untrusted peer's header ignored", "203.0.113.7:1234", []string{"1.2.3.4"}, r, "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:80", []string{"198.51.100.2"}, r, "198.51.100.2"},
		{"client's spoofed entry skipped", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.2"}, r, "198.51.100.2"},
		{"two trusted hops", "10.1.2.3:80", []string{"198.51.100.2, 192.168.1.1"}, r, "198.51.100.2"},
		{"header lines", "10.1.2.3:80", []string{"6.6.6.6", "198.51.100.2"}, r, "198.51.100.2"},
		{"garbage stops", "10.1.2.3:80", []string{"198.51.100.2, junk"}, r, "10.1.2.3"},
		{"proxy without header", "10.1.2.3:80", nil, r, "10.1.2.3"},
		{"ipv6 loopback proxy", "[::1]:80", []string{"2001:db8::1"}, r, "2001:db8::1"},
		{"nil resolver trusts nobody", "10.1.2.3:80", []string{"198.51.100.2"}, nil, "10.1.2.3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = c.remote
			for _, h := range c.xff {
				req.Header.Add("X-Forwarded-For", h)
			}
			if got := c.res.IP(req); got != c.want {
				t.Errorf("IP = %q, want %q", got, c.want)
			}
		})
	}
	if _, err := New([]string{"not-an-ip"}); err == nil {
		t.Error("a bad trusted proxy must be refused")
	}
}
