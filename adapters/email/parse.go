package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"

	_ "github.com/emersion/go-message/charset" // GB2312/GBK/GB18030, Big5 and the other charsets Chinese mail comes in
	"github.com/emersion/go-message/mail"
	"golang.org/x/net/html"

	"github.com/kefu-dev/kefu/bot"
)

// maxPartBytes bounds the text read from one part; attachments are counted, never kept in memory.
const maxPartBytes = 1 << 20

// Inbound is one parsed e-mail.
type Inbound struct {
	From        string // address, lower case
	Name        string // display name
	MessageID   string // without angle brackets
	InReplyTo   []string
	References  []string
	Subject     string
	Date        time.Time
	Text        string // body as text: HTML reduced, quoted history and signature trimmed
	Attachments []bot.Attachment
	// Files[i] is the decoded content of Attachments[i] (the whole message is in memory already).
	Files [][]byte
	// Auto says why the message is machine-made (auto-reply, bounce, list mail) and must never be
	// answered; "" for a person's mail.
	Auto string
}

// Parse reads a raw RFC 5322 message. It never panics on hostile input.
func Parse(raw []byte) (in Inbound, err error) {
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && mr == nil {
		return in, fmt.Errorf("email: parse: %w", err)
	}
	defer mr.Close()
	h := mr.Header
	if from, err := h.AddressList("From"); err == nil && len(from) > 0 {
		in.From, in.Name = strings.ToLower(from[0].Address), from[0].Name
	}
	if in.From == "" {
		return in, errors.New("email: parse: no From address")
	}
	in.MessageID, _ = h.MessageID()
	in.InReplyTo, _ = h.MsgIDList("In-Reply-To")
	in.References, _ = h.MsgIDList("References")
	in.Subject, _ = h.Subject()
	in.Date, _ = h.Date()
	in.Auto = autoReason(h, in.From)

	var plain, htm strings.Builder
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if plain.Len() == 0 && htm.Len() == 0 && i == 0 {
				return in, fmt.Errorf("email: parse body: %w", err)
			}
			break // keep what was read of a damaged message
		}
		switch ph := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := ph.ContentType()
			switch ct {
			case "text/plain", "":
				b, _ := io.ReadAll(io.LimitReader(p.Body, maxPartBytes))
				plain.Write(b)
			case "text/html":
				b, _ := io.ReadAll(io.LimitReader(p.Body, maxPartBytes))
				htm.Write(b)
			default:
				at, data := attachment(p.Body, ct, "", i)
				in.Attachments, in.Files = append(in.Attachments, at), append(in.Files, data)
			}
		case *mail.AttachmentHeader:
			ct, _, _ := ph.ContentType()
			name, _ := ph.Filename()
			at, data := attachment(p.Body, ct, name, i)
			in.Attachments, in.Files = append(in.Attachments, at), append(in.Files, data)
		}
	}
	text := plain.String()
	if strings.TrimSpace(text) == "" && htm.Len() > 0 {
		text = HTMLToText(htm.String())
	}
	in.Text = TrimQuoted(text)
	return in, nil
}

func attachment(body io.Reader, ct, name string, part int) (bot.Attachment, []byte) {
	data, _ := io.ReadAll(body) // what could be decoded of a damaged part
	n := int64(len(data))
	typ := "document"
	switch {
	case strings.HasPrefix(ct, "image/"):
		typ = "photo"
	case strings.HasPrefix(ct, "audio/"):
		typ = "voice"
	case strings.HasPrefix(ct, "video/"):
		typ = "video"
	}
	return bot.Attachment{Type: typ, Name: name, Size: n, MIME: ct, FileID: fmt.Sprintf("part:%d", part)}, data
}

// autoReason recognises mail that a machine sent: RFC 3834 Auto-Submitted, the older Precedence and
// vendor headers (X-Autoreply, X-Autorespond, Exchange's X-Auto-Response-Suppress), delivery and
// read reports (multipart/report, RFC 3462), mailing lists, and the null or daemon senders of bounces.
func autoReason(h mail.Header, from string) string {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return "Auto-Submitted: " + v
	}
	switch p := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); p {
	case "bulk", "junk", "list", "auto_reply", "auto-reply":
		return "Precedence: " + p
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe", "Feedback-ID"} {
		if h.Get(k) != "" {
			return k
		}
	}
	if ct, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && ct == "multipart/report" {
		return "multipart/report; report-type=" + params["report-type"]
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" {
		return "null Return-Path (bounce)"
	}
	local, _, _ := strings.Cut(from, "@")
	switch local {
	case "mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply":
		return "sender " + local
	}
	return ""
}

// quoteMarkers start the quoted history that mail clients append below a reply: Gmail/Apple "On …
// wrote:", Chinese clients "在 … 写道：", Outlook and Foxmail/QQ "-----Original Message-----",
// "------------------ 原始邮件 ------------------", header blocks "From:/发件人：", and the RFC 3676
// signature delimiter "-- ".
var quoteMarkers = []*regexp.Regexp{
	regexp.MustCompile(`^On\s.{0,200}wrote:\s*$`),
	regexp.MustCompile(`^在.{0,200}写道[：:]\s*$`),
	regexp.MustCompile(`^-{2,}\s*(Original Message|Forwarded message|原始邮件|转发邮件|Original)\s*-{2,}\s*$`),
	regexp.MustCompile(`^_{10,}\s*$`),
	regexp.MustCompile(`^(From|发件人|寄件者)\s*[:：]\s*\S`),
	regexp.MustCompile(`^-- $`),
}

// TrimQuoted cuts the quoted history and signature below a reply and drops "> " lines. If nothing
// would be left (a message that is all quote), the text is kept whole.
func TrimQuoted(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	var out []string
cut:
	for i, l := range lines {
		t := strings.TrimRight(l, " \t")
		if l == "-- " {
			t = l
		}
		for _, re := range quoteMarkers {
			if re.MatchString(t) {
				break cut
			}
		}
		// "On Mon, 1 Dec 2026 at 10:00, Name <a@b>" wrapped onto the next line before "wrote:".
		if strings.HasPrefix(t, "On ") && i+1 < len(lines) && strings.HasSuffix(strings.TrimSpace(lines[i+1]), "wrote:") {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(t, " "), ">") {
			continue
		}
		out = append(out, t)
	}
	res := strings.TrimSpace(strings.Join(out, "\n"))
	if res == "" {
		return strings.TrimSpace(text)
	}
	return res
}

// HTMLToText reduces an HTML body to its text: block elements become line breaks, scripts, styles
// and quoted history (blockquote, Gmail's gmail_quote, Outlook's divRplyFwdMsg) are dropped.
func HTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0 // depth inside an element whose text is dropped
	var stack []bool
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return collapseBlank(b.String())
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			drop := tag == "script" || tag == "style" || tag == "head" || tag == "blockquote" || tag == "title"
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if (string(k) == "class" && strings.Contains(string(v), "gmail_quote")) || (string(k) == "id" && string(v) == "divRplyFwdMsg") {
					drop = true
				}
			}
			if tt == html.StartTagToken && !voidElement[tag] {
				stack = append(stack, drop)
				if drop {
					skip++
				}
			}
			if skip == 0 && blockElement[tag] {
				b.WriteString("\n")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) > 0 {
				if stack[len(stack)-1] {
					skip--
				}
				stack = stack[:len(stack)-1]
			}
			if skip == 0 && blockElement[string(name)] {
				b.WriteString("\n")
			}
		}
	}
}

var blockElement = map[string]bool{"p": true, "div": true, "br": true, "li": true, "tr": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "table": true, "ul": true, "ol": true, "hr": true}

var voidElement = map[string]bool{"br": true, "hr": true, "img": true, "meta": true, "link": true, "input": true, "wbr": true}

func collapseBlank(s string) string {
	var out []string
	blank := 0
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// fingerprint identifies a message without a Message-ID (sender, date and content).
func fingerprint(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:12])
}
