package slack

import "testing"

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张*"},
		{"张三丰", "张*"},
		{"欧阳娜娜", "欧*"},
		{"张", "张*"},
		{"  李四 ", "李*"},
		{"John Smith", "J*"},
		{"", ""},
		{"   ", ""},
		{"\xff\xfe", "*"},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13812345678", "138****5678"},
		{"138 1234 5678", "138****5678"},
		{"138-1234-5678", "138****5678"},
		{"+8613812345678", "+86 138****5678"},
		{"+86 138 1234 5678", "+86 138****5678"},
		{"+1 (415) 555-0132", "+1 415***0132"},
		{"010-88886666", "010****6666"},
		{"12345", "***45"},
		{"1234", "****"},
		{"", ""},
		{"call me maybe", "*************"[:11]},
		{"138abc45678", "***********"},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzMaskPhone(f *testing.F) {
	for _, s := range []string{"13812345678", "+8613812345678", "", "+", "++1", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := MaskPhone(s)
		digits := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits > 3+4+3 { // at most a country code, the first three and the last four
			t.Fatalf("MaskPhone(%q) = %q shows %d digits", s, m, digits)
		}
	})
}
