package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// pageKeys are the locale keys the page shows. The page gets them for every offered language so
// its language switch works without a reload.
var pageKeys = []string{
	"web.title", "web.placeholder", "web.send", "web.new_chat", "web.connecting", "web.reconnecting",
	"web.offline", "web.send_failed", "web.retry", "web.you", "web.bot", "web.typing", "web.powered",
	"web.too_long", "lang.choose", "error.internal",
}

// fallback is used only for keys the catalog lacks (or when Options.T is nil, as in some tests), so
// that the page and the API never show a raw key. The catalogs in locales/ are the source of truth;
// a test checks that every key used here exists there.
var fallback = map[string]map[string]string{
	"zh-CN": {
		"web.title":                "在线客服",
		"web.placeholder":          "请输入您的问题…",
		"web.send":                 "发送",
		"web.new_chat":             "新对话",
		"web.connecting":           "正在连接…",
		"web.reconnecting":         "连接中断，正在重连…",
		"web.offline":              "网络已断开，恢复后会自动重连。",
		"web.send_failed":          "发送失败，请重试。",
		"web.retry":                "重试",
		"web.you":                  "我",
		"web.bot":                  "客服",
		"web.typing":               "正在输入…",
		"web.powered":              "由 kefu 提供支持",
		"web.too_long":             "消息太长了，请精简后再发送。",
		"lang.choose":              "请选择语言 / Choose a language:",
		"lang.zh":                  "中文",
		"lang.en":                  "English",
		"error.internal":           "抱歉，系统开小差了，请稍后再试。",
		"error.bad_request":        "请求格式不正确。",
		"error.not_found":          "没有这个接口。",
		"error.method_not_allowed": "这个接口不支持该请求方法。",
		"error.unknown_session":    "会话已失效，请刷新页面重新开始。",
		"error.empty":              "您好像没有输入内容，请用文字描述您的问题。",
		"error.rate_limited":       "您发送得太快了，请稍等片刻再试。",
	},
	"en": {
		"web.title":                "Customer Service",
		"web.placeholder":          "Type your question…",
		"web.send":                 "Send",
		"web.new_chat":             "New chat",
		"web.connecting":           "Connecting…",
		"web.reconnecting":         "Connection lost, reconnecting…",
		"web.offline":              "You're offline; we'll reconnect automatically.",
		"web.send_failed":          "Sending failed. Please try again.",
		"web.retry":                "Retry",
		"web.you":                  "You",
		"web.bot":                  "Support",
		"web.typing":               "Typing…",
		"web.powered":              "Powered by kefu",
		"web.too_long":             "That message is too long; please shorten it.",
		"lang.choose":              "请选择语言 / Choose a language:",
		"lang.zh":                  "中文",
		"lang.en":                  "English",
		"error.internal":           "Sorry, something went wrong on our side. Please try again later.",
		"error.bad_request":        "The request is malformed.",
		"error.not_found":          "There is no such endpoint.",
		"error.method_not_allowed": "This endpoint does not accept that method.",
		"error.unknown_session":    "This chat session has expired. Please reload the page to start again.",
		"error.empty":              "It looks like your message is empty. Please describe your question in words.",
		"error.rate_limited":       "You're sending messages too fast. Please wait a moment and try again.",
	},
}

// langName is a language's own name ("中文", "English") from the catalog key lang.<primary subtag>.
func (a *Adapter) langName(lang string) string {
	prim, _, _ := strings.Cut(strings.ToLower(lang), "-")
	return a.text(lang, "lang."+prim)
}

// text renders key in lang through the catalog, falling back to the built-in table.
func (a *Adapter) text(lang, key string) string {
	if a.t != nil {
		args, ok := a.args[lang]
		if !ok {
			args = a.args[""]
		}
		if s := a.t(lang, key, args); s != "" && s != key {
			return s
		}
	}
	fb, ok := fallback[lang]
	if !ok {
		fb = fallback["en"]
		if strings.HasPrefix(strings.ToLower(lang), "zh") {
			fb = fallback["zh-CN"]
		}
	}
	if s, ok := fb[key]; ok {
		return s
	}
	return key
}

// asset is one embedded static file, served with a strong ETag.
type asset struct {
	name  string
	ctype string
	data  []byte
	etag  string
	ver   string // short content hash for cache busting (?v=)
}

type page struct {
	tmpl   *template.Template
	assets map[string]*asset
}

func newPage() (*page, error) {
	p := &page{assets: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) == ".tmpl" {
			return err
		}
		b, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		base := path.Base(name)
		p.assets[base] = &asset{name: base, ctype: ct, data: b,
			etag: `"` + hex.EncodeToString(sum[:16]) + `"`, ver: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read assets: %w", err)
	}
	p.tmpl, err = template.New("index.html.tmpl").Funcs(template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := p.assets[name]
			if !ok {
				return "", fmt.Errorf("no asset %q", name)
			}
			return "static/" + a.name + "?v=" + a.ver, nil
		},
	}).ParseFS(staticFS, "static/index.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse page: %w", err)
	}
	return p, nil
}

// pageData is what index.html.tmpl renders.
type pageData struct {
	Lang   string
	S      map[string]string // strings in Lang, rendered server-side
	Langs  []langOption
	Config pageConfig // read by app.js from a JSON data block (no inline script)
}

type langOption struct{ Code, Name string }

type pageConfig struct {
	Lang    string                       `json:"lang"`
	Langs   []string                     `json:"langs"`
	PollMS  int64                        `json:"poll_ms"`
	MaxText int64                        `json:"max_text"`
	I18N    map[string]map[string]string `json:"i18n"` // every offered language, for the switch
}

func (a *Adapter) handlePage(w http.ResponseWriter, r *http.Request) {
	lang := a.uiLang(r, "")
	c := pageConfig{
		Lang:    lang,
		Langs:   a.langs,
		PollMS:  a.poll.Milliseconds(),
		MaxText: int64(min(a.maxText, int(a.maxBody/2))), // the API's limit (and room for JSON escaping)
		I18N:    make(map[string]map[string]string, len(a.langs)),
	}
	d := pageData{Lang: lang, Config: c}
	for _, l := range a.langs {
		m := make(map[string]string, len(pageKeys))
		for _, k := range pageKeys {
			m[k] = a.text(l, k)
		}
		c.I18N[l] = m
		d.Langs = append(d.Langs, langOption{Code: l, Name: a.langName(l)})
	}
	d.S = c.I18N[lang]
	var buf bytes.Buffer
	if err := a.page.tmpl.Execute(&buf, d); err != nil {
		a.log.ErrorContext(r.Context(), "render page", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func (a *Adapter) handleAsset(w http.ResponseWriter, r *http.Request) {
	as, ok := a.page.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", as.ctype)
	h.Set("ETag", as.etag)
	if r.URL.Query().Get("v") == as.ver {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, as.name, time.Time{}, bytes.NewReader(as.data))
}
