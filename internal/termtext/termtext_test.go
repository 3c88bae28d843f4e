package termtext

import (
	"strings"
	"testing"
	"unicode"
)

func TestName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"logits", "logits"},
		{"/mlp/fc2/Gemm_output_0", "/mlp/fc2/Gemm_output_0"},
		{"Ünïcødé", "Ünïcødé"},
		{"", `""`},
		{"a b", `"a b"`},
		{"a\nb", `"a\nb"`},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"nul\x00", `"nul\x00"`},
		{"cr\r", `"cr\r"`},
		{"csi\u009b2J", `"csi\u009b2J"`},
		{"rtl\u202eevil", `"rtl\u202eevil"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{`quo"te`, `"quo\"te"`},
	}
	for _, tc := range tests {
		if got := Name(tc.in); got != tc.want {
			t.Errorf("Name(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain message: x", "plain message: x"},
		{"two\nlines\r\n  and\ttabs", `two\nlines\r\n  and\ttabs`},
		{"  trailing newline\n", "trailing newline"},
		{"esc \x1b[2J here", `esc \x1b[2J here`},
		{"nul \x00", `nul \x00`},
		{"c1 \u009b", `c1 \u009b`},
		{"bidi \u202e", `bidi \u202e`},
		{"bad \xff\xfe", `bad \xff\xfe`},
		{"Grüße", "Grüße"},
	}
	for _, tc := range tests {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzLine checks that no input survives Line with a character a terminal
// would act on or a line break.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "a\nb", "\x1b[31m", "\xff", "\u202e", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Line(s), Name(s)} {
			for _, r := range out {
				if r != ' ' && !unicode.IsPrint(r) {
					t.Fatalf("%q -> %q keeps %U", s, out, r)
				}
			}
			if strings.ContainsAny(out, "\n\r") {
				t.Fatalf("%q -> %q breaks the line", s, out)
			}
		}
	})
}
