package wxcrypt

import (
	"errors"
	"strings"
	"testing"
)

// Golden vectors.
//
// Tencent's sample code for the algorithm (WXBizMsgCrypt, Java and Python) ships these values:
//   - encrypt: EncodingAESKey "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", AppID "wxb11529c136998cb6",
//     random "aaaabbbbccccdddd", message "我是中文abcd123";
//   - decrypt: token "spamtest", timestamp 1409735669, nonce 1320562132, AppID "wx2c2769f8efd9abc2",
//     msg_signature and Encrypt below (a text message "abcdteT").
//
// The third vector was derived independently of this code with the openssl CLI (documented so that
// anyone can recompute it):
//
//	KEY=$(printf 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=' | base64 -d | xxd -p -c 64); IV=${KEY:0:32}
//	{ printf '0123456789abcdef'; printf '%08x' 48 | xxd -r -p; printf '%s' "$MSG"; printf 'wxkefu0000000001'; } > pt
//	# append 12 bytes of 0x0c (84 bytes padded to 96), then:
//	openssl enc -aes-256-cbc -K $KEY -iv $IV -nopad -in pt | base64 -w0
const (
	sampleKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

	encAppID  = "wxb11529c136998cb6"
	encRandom = "aaaabbbbccccdddd"
	encMsg    = "我是中文abcd123"
	encWant   = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="

	decToken   = "spamtest"
	decTS      = "1409735669"
	decNonce   = "1320562132"
	decAppID   = "wx2c2769f8efd9abc2"
	decMsgSig  = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
	decEncrypt = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
	decWant    = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"

	sslAppID  = "wxkefu0000000001"
	sslRandom = "0123456789abcdef"
	sslMsg    = "<xml><Content><![CDATA[你好]]></Content></xml>"
	sslWant   = "Q3stYC6hdFzMh9T8HCvyDMwQK6xyeRZ7UnuZsYfP7/6Yf0piNuk7kxZYuxJFeZQQ6WWSSAGv9ZFJIKURndrGs1cZt/LKGQJy6FuIv9MMWziEOcjgoBCalClXNvJi6Pzc"
)

func TestEncryptGoldenVectors(t *testing.T) {
	for _, tc := range []struct{ name, appID, random, msg, want string }{
		{"tencent sample", encAppID, encRandom, encMsg, encWant},
		{"openssl derived", sslAppID, sslRandom, sslMsg, sslWant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(sampleKey, tc.appID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Encrypt([]byte(tc.msg), []byte(tc.random))
			if err != nil || got != tc.want {
				t.Fatalf("Encrypt = %q, %v\nwant %q", got, err, tc.want)
			}
			back, err := c.Decrypt(got)
			if err != nil || string(back) != tc.msg {
				t.Fatalf("Decrypt = %q, %v; want %q", back, err, tc.msg)
			}
		})
	}
}

func TestDecryptTencentSample(t *testing.T) {
	if !Verify(decMsgSig, decToken, decTS, decNonce, decEncrypt) {
		t.Fatalf("msg_signature of the sample does not verify; computed %s", Signature(decToken, decTS, decNonce, decEncrypt))
	}
	if Verify(decMsgSig, decToken, decTS, "1320562133", decEncrypt) {
		t.Fatal("a changed nonce still verifies")
	}
	c, err := New(sampleKey, decAppID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decrypt(decEncrypt)
	if err != nil || string(got) != decWant {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
	other, _ := New(sampleKey, "wxsomeoneelse00000")
	if _, err := other.Decrypt(decEncrypt); !errors.Is(err, ErrReceiveID) {
		t.Fatalf("Decrypt for another AppID = %v, want ErrReceiveID", err)
	}
}

func TestPlainSignature(t *testing.T) {
	// sha1("1409304348pamtestxxxxxx"), the sorted concatenation, computed with `printf … | sha1sum`.
	const want = "76480565cbe296026c53aaacd1ad523a1ddba24f"
	if got := Signature("pamtest", "1409304348", "xxxxxx"); got != want {
		t.Fatalf("Signature = %q, want %q", got, want)
	}
	if !Verify(strings.ToUpper(want), "xxxxxx", "pamtest", "1409304348") || Verify(want, "pamtest", "1409304349", "xxxxxx") {
		t.Fatal("Verify accepts a changed timestamp or refuses the parts in another order")
	}
}

func TestRejects(t *testing.T) {
	if _, err := New("short", "x"); !errors.Is(err, ErrBadKey) {
		t.Errorf("New(short key) = %v", err)
	}
	if _, err := New(strings.Repeat("!", 43), "x"); !errors.Is(err, ErrBadKey) {
		t.Errorf("New(non-base64 key) = %v", err)
	}
	c, _ := New(sampleKey, encAppID)
	for _, in := range []string{"", "!!!", "YWJj", "AAAAAAAAAAAAAAAAAAAAAA==", strings.Repeat("A", 44)} {
		if _, err := c.Decrypt(in); !errors.Is(err, ErrBadCipher) {
			t.Errorf("Decrypt(%q) = %v, want ErrBadCipher", in, err)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	f.Add(encWant)
	f.Add(sslWant)
	f.Add("AAAA")
	c, _ := New(sampleKey, encAppID)
	f.Fuzz(func(t *testing.T, s string) {
		msg, err := c.Decrypt(s)
		if err == nil {
			again, _ := c.Encrypt(msg, []byte(encRandom))
			if back, err := c.Decrypt(again); err != nil || string(back) != string(msg) {
				t.Fatalf("round trip of %q failed: %v", msg, err)
			}
		}
	})
}

// WeCom's sample (企业微信 加解密库, URL verification): the echostr is encrypted for the CorpID and
// signed together with token, timestamp and nonce.
func TestWeComURLVerificationSample(t *testing.T) {
	const (
		token, key, corpID = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
		sig, ts, nonce     = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780"
		echo               = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
	)
	if !Verify(sig, token, ts, nonce, echo) {
		t.Fatalf("signature: got %s", Signature(token, ts, nonce, echo))
	}
	c, err := New(key, corpID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Decrypt(echo); err != nil || string(got) != "1616140317555161061" {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
}
