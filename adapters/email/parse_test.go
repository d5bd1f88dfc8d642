package email

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		text      string
		atts      string
		auto      bool
	}{
		{"plain", "From: a@b.cn\r\nSubject: hi\r\nMessage-ID: <1@b>\r\n\r\nhello\r\n", "hello", "", false},
		{"GBK charset", "From: =?GBK?B?1cXI/Q==?= <a@b.cn>\r\nSubject: =?GB2312?B?zcu/7g==?=\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\ntNPE48zmztLNy7/u\r\n", "从你替我退款", "", false},
		{"html only, quote dropped", "From: a@b.cn\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><div>冰箱<b>坏了</b></div><p>谢谢</p><div class=\"gmail_quote\">On Mon wrote:<blockquote>old</blockquote></div></body></html>",
			"冰箱坏了\n\n谢谢", "", false},
		{"multipart with attachment", "From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n见附件\r\n--YY\r\nContent-Type: text/html\r\n\r\n<p>见附件</p>\r\n--YY--\r\n--XX\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"发票.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--XX--\r\n",
			"见附件", "photo:发票.jpg:image/jpeg:6", false},
		{"DSN", "From: postmaster@mx.cn\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=Z\r\n\r\n--Z\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--Z--\r\n", "failed", "", true},
		{"Auto-Submitted no is a person", "From: a@b.cn\r\nAuto-Submitted: no\r\n\r\nhi\r\n", "hi", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := Parse([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			var atts []string
			for _, a := range in.Attachments {
				atts = append(atts, strings.Join([]string{a.Type, a.Name, a.MIME, itoa(a.Size)}, ":"))
			}
			if in.Text != tc.text || strings.Join(atts, ",") != tc.atts || (in.Auto != "") != tc.auto {
				t.Errorf("text %q atts %q auto %q; want %q %q %v", in.Text, atts, in.Auto, tc.text, tc.atts, tc.auto)
			}
		})
	}
}

func itoa(n int64) string { return fmtInt(n) }

func fmtInt(n int64) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

func TestTrimQuoted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Thanks!\n\nOn Tue, 1 Dec 2026 at 10:00, Support <s@k.cn> wrote:\n> old\n", "Thanks!"},
		{"Thanks!\n\nOn Tue, 1 Dec 2026 at 10:00, Support\n<s@k.cn> wrote:\n> old\n", "Thanks!"},
		{"好的\n\n------------------ 原始邮件 ------------------\n发件人: 客服\n", "好的"},
		{"好的\n\n-----Original Message-----\nFrom: x\n", "好的"},
		{"inline\n> quoted\nanswer", "inline\nanswer"},
		{"text\n-- \nsig", "text"},
		{"> only a quote", "> only a quote"},
	} {
		if got := TrimQuoted(tc.in); got != tc.want {
			t.Errorf("TrimQuoted(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@b.cn\r\nSubject: hi\r\n\r\nhello\r\n"))
	f.Add([]byte("From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/html\r\n\r\n<p>x<blockquote>y</p>\r\n--X--"))
	f.Add([]byte("From: =?GBK?B?1cXI/Q==?= <a@b.cn>\r\nContent-Type: text/plain; charset=GBK\r\n\r\n\xb4\xd3"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := Parse(raw)
		if err == nil && in.From == "" {
			t.Fatal("parsed without a From address")
		}
		_ = HTMLToText(string(raw))
	})
}
