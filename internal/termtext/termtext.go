// Package termtext makes names from models and flags safe to print on a
// terminal: nothing they hold can move the cursor, change colours or break a line.
//
// Model value names, class names and paths are arbitrary strings: ESC, CSI,
// CR, LF, NUL or bidirectional-override characters in them would reach the
// terminal raw. Name quotes such a string Go-style (%q); Line escapes what
// is left in a whole message.
package termtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name returns s as it should be printed: unchanged when it is non-empty and
// made only of printable characters other than space, '"' and '\', and
// otherwise quoted and escaped as by strconv.Quote ("a\nb", "\x1b[31m", "").
func Name(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == utf8.RuneError || r == ' ' || r == '"' || r == '\\' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Names applies Name to each of names and joins them with ", ".
func Names(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Name(n)
	}
	return strings.Join(q, ", ")
}

// Line makes one safe line of a message: leading and trailing white space
// is dropped, and every character a terminal would act on (control
// characters, newlines and tabs included, invalid UTF-8, format characters
// such as U+202E) is escaped as \n, \xNN, \uNNNN or \UNNNNNNNN, so a path
// or name inside the message stays recognizable and cannot break the line.
func Line(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // 'x' with the escape inside
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}
