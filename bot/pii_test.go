package bot

import (
	"strings"
	"testing"
)

func TestFindPhones(t *testing.T) {
	star := func(s string) string { return strings.Repeat("*", len(s)) }
	tests := []struct{ in, want string }{
		{"请打我电话13812345678谢谢", "请打我电话***********谢谢"},
		{"手机 +86 138-1234-5678", "手机 " + strings.Repeat("*", 17)},
		{"call 138 1234 5678 please", "call ************* please"},
		{"座机 010-12345678", "座机 ************"},
		{"订单号 202611200012345", "订单号 202611200012345"}, // 15 digits: an order number, not a phone
		{"id 9913812345678", "id 9913812345678"},       // digits on the left
		{"138123456789", "138123456789"},               // 12 digits
		{"no phone here", "no phone here"},
		{"两个 13812345678 和 13987654321", "两个 *********** 和 ***********"},
	}
	for _, tc := range tests {
		if got := MaskPhonesIn(tc.in, star); got != tc.want {
			t.Errorf("MaskPhonesIn(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := FirstPhone("电话13812345678，备用13900000000"); got != "13812345678" {
		t.Errorf("FirstPhone = %q", got)
	}
}
