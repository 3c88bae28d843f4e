package labelcounts

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxLine bounds a text label line.
const maxLine = 1 << 16

// countText counts a file of one integer label per line. It reads 1 MiB
// chunks and has a fast path for plain digit lines; everything else goes
// through parseLabel.
func countText(r io.Reader, c *counter) error {
	buf := make([]byte, 1<<20)
	var line int64
	start, end := 0, 0 // unconsumed bytes buf[start:end]
	eof := false
	for {
		if !eof {
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			}
			n, err := io.ReadFull(r, buf[end:])
			end += n
			switch {
			case err == nil:
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				eof = true
			default:
				return fmt.Errorf("reading line %d: %w", line+1, err)
			}
		}
		data := buf[start:end]
		if len(data) == 0 {
			return nil
		}
		for {
			// Fast path: 1-9 plain digits then '\n', a known class.
			q, v := 0, int64(0)
			for q < len(data) && q < 9 {
				d := data[q] - '0'
				if d > 9 {
					break
				}
				v = v*10 + int64(d)
				q++
			}
			if q > 0 && q < len(data) && data[q] == '\n' && v < int64(len(c.counts)) && !(c.hasIgn && v == c.ignore) {
				c.counts[v]++
				c.labels++
				line++
				data = data[q+1:]
				continue
			}
			k := bytes.IndexByte(data, '\n')
			var b []byte
			switch {
			case k >= 0:
				b, data = data[:k], data[k+1:]
			case eof && len(data) > 0:
				b, data = data, data[len(data):]
			default:
				if len(data) > maxLine {
					return fmt.Errorf("line %d is longer than %d bytes: want one integer label per line", line+1, maxLine)
				}
				start = end - len(data)
			}
			if b == nil && k < 0 {
				break
			}
			line++
			if len(b) > maxLine {
				return fmt.Errorf("line %d is longer than %d bytes: want one integer label per line", line, maxLine)
			}
			if line == 1 {
				b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
			}
			y, skip, err := parseLabel(b, true)
			if err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			if !skip {
				if err := c.add(y); err != nil {
					return fmt.Errorf("line %d: %w", line, err)
				}
			}
		}
		if eof {
			return nil
		}
	}
}

// ParseLabel parses one integer label, e.g. "17", " -100\r\n" or "+3":
// surrounding spaces, tabs and line ends are allowed. skip is true for a
// blank line or a '#' comment (with comments true). Errors are one line.
func ParseLabel(b []byte, comments bool) (y int64, skip bool, err error) {
	return parseLabel(b, comments)
}

func parseLabel(b []byte, comments bool) (int64, bool, error) {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	if i == j {
		if comments {
			return 0, true, nil
		}
		return 0, false, errors.New("empty label: want an integer class id")
	}
	s := b[i:j]
	if comments && s[0] == '#' {
		return 0, true, nil
	}
	neg := false
	k := 0
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		k = 1
	}
	if k == len(s) {
		return 0, false, notInteger(s)
	}
	var v uint64
	for ; k < len(s); k++ {
		d := s[k] - '0'
		if d > 9 {
			return 0, false, notInteger(s)
		}
		if v > (1<<63-1)/10 {
			return 0, false, fmt.Errorf("label %s is too large: want a class id", quote(s))
		}
		v = v*10 + uint64(d)
	}
	if v > 1<<63-1 && !(neg && v == 1<<63) {
		return 0, false, fmt.Errorf("label %s is too large: want a class id", quote(s))
	}
	if neg {
		return -int64(v), false, nil
	}
	return int64(v), false, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func notInteger(s []byte) error {
	return fmt.Errorf("%s is not an integer label: want one class id (0, 1, …) per line", quote(s))
}

// quote shows at most 40 bytes of s.
func quote(s []byte) string {
	if len(s) > 40 {
		return strconv.Quote(string(s[:40])) + "…"
	}
	return strconv.Quote(string(s))
}

// countCSV counts one column of a CSV file: integer class ids, or class
// names. The first row is a header when Column is a name, or when its
// label cell is not an integer (so a CSV of names needs a header row).
func countCSV(r io.Reader, opt Options, c *counter) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	col := -1
	first := true
	for row := int64(1); ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("not valid CSV at line %d: %v", pe.Line, pe.Err)
			}
			return fmt.Errorf("reading CSV row %d: %w", row, err)
		}
		if first {
			first = false
			if len(rec) > 0 {
				rec[0] = string(bytes.TrimPrefix([]byte(rec[0]), []byte("\xef\xbb\xbf")))
			}
			header, idx, err := csvColumn(rec, opt.Column)
			if err != nil {
				return err
			}
			col = idx
			if header {
				continue
			}
		}
		if col >= len(rec) {
			return fmt.Errorf("row %d has %d columns, no column %d", row, len(rec), col)
		}
		y, _, err := parseLabel([]byte(rec[col]), false)
		if err != nil {
			// Not an integer: a class name (looked up in --classes, or
			// given the id of its sorted position).
			name := strings.TrimSpace(rec[col])
			if name == "" {
				return fmt.Errorf("row %d, column %d: empty label: want a class id or name", row, col)
			}
			if err := c.addName(name, 1); err != nil {
				return fmt.Errorf("row %d, column %d: %w", row, col, err)
			}
			continue
		}
		if err := c.add(y); err != nil {
			return fmt.Errorf("row %d: %w", row, err)
		}
	}
}

// csvColumn decides from the first row whether it is a header and which
// column holds the labels.
func csvColumn(rec []string, column string) (header bool, idx int, err error) {
	isInt := func(s string) bool { _, _, e := parseLabel([]byte(s), false); return e == nil }
	if column != "" {
		for i, name := range rec {
			if name == column && !isInt(name) {
				return true, i, nil
			}
		}
		n, err := strconv.Atoi(column)
		if err != nil || n < 0 {
			return false, 0, fmt.Errorf("--column %q is not in the header %q: give a column name or a 0-based index", column, rec)
		}
		if n >= len(rec) {
			return false, 0, fmt.Errorf("--column %d is out of range: the first row has %d columns", n, len(rec))
		}
		return !isInt(rec[n]), n, nil
	}
	if len(rec) != 1 {
		return false, 0, fmt.Errorf("the CSV has %d columns: pick the labels with --column NAME or --column INDEX (first row %q)", len(rec), rec)
	}
	return !isInt(rec[0]), 0, nil
}
