package wechat

import (
	"testing"
	"time"
)

// FuzzCallbackXML: any body either fails to parse or normalizes without panicking, and an event that
// is handed on always has the ids the engine needs.
func FuzzCallbackXML(f *testing.F) {
	f.Add([]byte("<xml><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>"))
	f.Add([]byte("<xml><FromUserName>o1</FromUserName><MsgType>event</MsgType><Event>CLICK</Event><EventKey>/status</EventKey></xml>"))
	f.Add([]byte("<xml><FromUserName>o1</FromUserName><MsgType>location</MsgType><Label>&lt;x&gt;</Label></xml>"))
	a, err := New(Options{AppID: "wx1", AppSecret: "s", Token: "t", Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseMessage(body)
		if err != nil || m.FromUserName == "" {
			return
		}
		ev, ok := a.normalize(m)
		if ok && (ev.MsgID == "" || ev.ChatID == "" || ev.Kind == "") {
			t.Fatalf("event without ids or kind: %+v", ev)
		}
	})
}
