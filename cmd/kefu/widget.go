package main

import (
	_ "embed"
	"net/http"
	"net/url"
)

// widgetJS is the embeddable chat: a company adds
//
//	<script src="https://kefu.example.com/widget.js" async></script>
//
// to any page of its site (listed in web.allowed_origins), and a button opens the web chat in a frame.
// The script finds kefu's address from its own src, so one file serves every install.
//
//go:embed widget.js
var widgetJS []byte

func serveWidget(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	// Loaded by other sites' pages: allow that explicitly (Cross-Origin-Resource-Policy).
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(widgetJS)
}

// checkOrigin accepts a web origin: http(s)://host[:port], nothing after it.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return failMsg(nil, "cli.cfg.want_origin")
	}
	return nil
}
