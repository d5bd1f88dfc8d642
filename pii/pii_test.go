package pii

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMaskerText(t *testing.T) {
	m := Masker{Names: []string{"王小明", "John Smith", "李"}}
	tests := []struct{ in, want string }{
		{"请打我电话13812345678谢谢", "请打我电话138****5678谢谢"},
		{"手机 +86 138-1234-5678", "手机 +86 138****5678"},
		{"手机 008613812345678", "手机 +86 138****5678"},
		{"call 138 1234 5678 please", "call 138****5678 please"},
		{"座机 010-12345678", "座机 010****5678"},
		{"座机 (0755) 1234 5678", "座机 075*****5678"},
		{"座机 +86 10 8765 4321", "座机 +86 108***4321"},
		{"订单号 202611200012345", "订单号 202611200012345"}, // 15 digits: an order number
		{"138123456789", "138123456789"},               // 12 digits
		{"身份证 110101199003074514 号", "身份证 110***********4514 号"},
		{"身份证11010119900307451X", "身份证11010119900307451X"}, // wrong check character: not an ID
		{"邮箱 wang.xm@example.com.cn。", "邮箱 w***@example.com.cn。"},
		{"qq 13812345678@qq.com", "qq 1***@qq.com"},
		{"卡号 6222 0212 3456 7890 128 结束", "卡号 ***************0128 结束"},
		{"卡号 6222021234567890128", "卡号 ***************0128"},
		{"单号 6222021234567890129", "单号 6222021234567890129"}, // fails Luhn
		{"我是王小明，John Smith 的同事; Johnny Smithers 不是", "我是王*，J* 的同事; Johnny Smithers 不是"},
		{"李先生", "李先生"}, // one-character names are not masked on their own
		{"no personal data here", "no personal data here"},
		// WeChat ids: a 公众号 openid, a WeCom external_userid (its kf account id "wk…" is not personal).
		{"chat_id=oLVPpjqs9BhvzwPj5A-vTYAX3GLc", "chat_id=oLV****GLc"},
		{"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q|wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q|wmA****oAw"},
		{"overcomplicatedlyunderstoodx is a word", "overcomplicatedlyunderstoodx is a word"}, // one case only
		{"xoLVPpjqs9BhvzwPj5A-vTYAX3GLc", "xoLVPpjqs9BhvzwPj5A-vTYAX3GLc"},                   // part of a longer token
	}
	for _, tc := range tests {
		if got := m.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskFields(t *testing.T) {
	for _, tc := range []struct {
		f        func(string) string
		in, want string
	}{
		{MaskName, "张三", "张*"}, {MaskName, " John Smith", "J*"}, {MaskName, "", ""},
		{MaskPhone, "13812345678", "138****5678"}, {MaskPhone, "+1 415 555 0100", "+1 415***0100"},
		{MaskPhone, "12345", "***45"}, {MaskPhone, "call me", "*******"}, {MaskPhone, "", ""},
		{MaskEmail, "a@b.cn", "a***@b.cn"}, {MaskIDCard, "110101199003074514", "110***********4514"},
		{MaskCard, "6222-0212-3456-7890-128", "***************0128"},
	} {
		if got := tc.f(tc.in); got != tc.want {
			t.Errorf("mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Generators of identifiers in the notations customers type.

func genPhone(r *rand.Rand) (typed, digits string) {
	d := fmt.Sprintf("1%c%09d", "3456789"[r.IntN(7)], r.IntN(1_000_000_000))
	switch r.IntN(5) {
	case 0:
		return d, d
	case 1:
		return "+86 " + d, d
	case 2:
		return d[:3] + " " + d[3:7] + " " + d[7:], d
	case 3:
		return "+86-" + d[:3] + "-" + d[3:7] + "-" + d[7:], d
	default:
		return "0086" + d, d
	}
}

func genLandline(r *rand.Rand) (typed, digits string) {
	area := []string{"010", "021", "0755", "0571"}[r.IntN(4)]
	num := fmt.Sprintf("%d%07d", 2+r.IntN(7), r.IntN(10_000_000))
	switch r.IntN(3) {
	case 0:
		return area + "-" + num, area + num
	case 1:
		return "(" + area + ") " + num[:4] + " " + num[4:], area + num
	default:
		return area + " " + num, area + num
	}
}

func genID(r *rand.Rand) (string, string) {
	d := fmt.Sprintf("%06d%04d%02d%02d%03d", 110000+r.IntN(500000), 1950+r.IntN(60), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000))
	id := d + string(IDCheckChar(d))
	if id[17] == 'X' && r.IntN(2) == 0 {
		id = d + "x"
	}
	return id, id
}

func genEmail(r *rand.Rand) (string, string) {
	users := []string{"wang.xm", "li_hua88", "z", "customer+tag", "13812345678"}
	doms := []string{"example.cn", "qq.com", "mail.example.com.cn", "163.com"}
	e := users[r.IntN(len(users))] + fmt.Sprint(r.IntN(1000)) + "@" + doms[r.IntN(len(doms))]
	return e, e
}

func genCard(r *rand.Rand) (string, string) {
	n := 15 + r.IntN(4) // 16..19 digits with the check digit
	var b strings.Builder
	b.WriteString("62")
	for b.Len() < n {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	d := b.String()
	d += string(LuhnDigit(d))
	if r.IntN(2) == 0 && len(d) >= 16 {
		var g strings.Builder
		for i := 0; i < len(d); i++ {
			if i > 0 && i%4 == 0 {
				g.WriteByte(' ')
			}
			g.WriteByte(d[i])
		}
		return g.String(), d
	}
	return d, d
}

var fillers = []string{"您好", "我的订单", "请尽快处理", "谢谢", "hello", "please call", "，", "。", "：", " ", "！", "order no. A1",
	"退款", "急", "(", ")", "、", "\n", "customer says", "地址是北京市朝阳区"}

// randomText embeds identifiers among filler; identifiers never touch digits of the filler (a digit
// next to a number makes it a longer number, which is not the identifier).
func randomText(r *rand.Rand, name string) (string, []string) {
	var b strings.Builder
	var secrets []string
	for i := 0; i < 3+r.IntN(8); i++ {
		b.WriteString(fillers[r.IntN(len(fillers))])
		var typed, canon string
		switch r.IntN(7) {
		case 0:
			typed, canon = genPhone(r)
		case 1:
			typed, canon = genLandline(r)
		case 2:
			typed, canon = genID(r)
		case 3:
			typed, canon = genEmail(r)
		case 4:
			typed, canon = genCard(r)
		case 5:
			typed, canon = name, name
		default:
			continue
		}
		b.WriteString([]string{" ", "：", "，", "是", "\t"}[r.IntN(5)])
		b.WriteString(typed)
		b.WriteString([]string{" ", "。", "，", "谢谢", "\n"}[r.IntN(5)])
		secrets = append(secrets, typed, canon)
	}
	return b.String(), secrets
}

// TestPropertyNoLeak: random texts with embedded phones, landlines, ID numbers, e-mails, bank cards
// and the customer's name never show any of them, as typed or as bare digits, after masking.
func TestPropertyNoLeak(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 2026))
	names := []string{"王小明", "欧阳娜娜", "John Smith", "Li Hua"}
	for i := 0; i < 3000; i++ {
		name := names[r.IntN(len(names))]
		text, secrets := randomText(r, name)
		got := Masker{Names: []string{name}}.Text(text)
		for _, s := range secrets {
			if strings.Contains(got, s) {
				t.Fatalf("case %d leaks %q:\n in: %q\nout: %q", i, s, text, got)
			}
		}
		if Leaks(got, secrets) {
			t.Fatalf("case %d leaks digits:\n in: %q\nout: %q", i, text, got)
		}
	}
}

func TestMaskingHandler(t *testing.T) {
	var b strings.Builder
	log := slog.New(MaskingHandler(slog.NewTextHandler(&b, nil))).With("chat", "13812345678")
	log.Info("customer 110101199003074514 wrote", "text", "mail wang@example.cn", "err", errors.New("card 6222021234567890128"),
		slog.Group("g", "phone", "+86 139 8765 4321"), "n", 5)
	out := b.String()
	if Leaks(out, []string{"13812345678", "110101199003074514", "wang@example.cn", "6222021234567890128", "13987654321"}) {
		t.Errorf("log leaks personal data: %s", out)
	}
	if !strings.Contains(out, "n=5") || !strings.Contains(out, "138****5678") {
		t.Errorf("log lost its other content: %s", out)
	}
}
