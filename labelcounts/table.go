package labelcounts

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// labelCountColumns returns the label and count column names of a
// LabelCount table.
func labelCountColumns(opt Options) (label, count string) {
	label, count = opt.Column, opt.CountColumn
	if label == "" {
		label = "label"
	}
	if count == "" {
		count = "count"
	}
	return label, count
}

// addLabelCount adds count labels of the label cell s (an integer id or a
// class name).
func addLabelCount(s string, count int64, c *counter) error {
	if y, _, err := parseLabel([]byte(s), false); err == nil {
		return c.addN(y, count)
	}
	return c.addName(strings.TrimSpace(s), count)
}

// countLabelCountCSV reads an aggregated label,count CSV (with a header
// row), as DuckDB's COPY (SELECT label, COUNT(*) AS count ... GROUP BY
// label) TO 'counts.csv' or Spark's groupBy("label").count() writes it.
// A label that appears on several rows (partial counts) is summed.
func countLabelCountCSV(path string, opt Options, c *counter) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot be read: %v", errors.Unwrap(err))
	}
	defer f.Close()
	var r io.Reader = f
	if opt.Progress != nil {
		r = opt.Progress.reader(r)
	}
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.ReuseRecord = true
	cr.Comment = '#'
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	} else if strings.EqualFold(strings.TrimPrefix(path[max(0, len(path)-4):], "."), "tsv") {
		cr.Comma = '\t'
	}
	labelName, countName := labelCountColumns(opt)
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("is empty: want a header row label,count and one row per class")
		}
		return fmt.Errorf("not valid CSV: %v", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\xef\xbb\xbf")
	}
	li, ci := -1, -1
	for i, h := range header {
		switch strings.TrimSpace(h) {
		case labelName:
			li = i
		case countName:
			ci = i
		}
	}
	if li < 0 || ci < 0 {
		return fmt.Errorf("header %q lacks the columns %q and %q: want label,count (or name them with --column and --count-column)", header, labelName, countName)
	}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("not valid CSV at line %d: %v", pe.Line, pe.Err)
			}
			return fmt.Errorf("not valid CSV: %v", err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(rec[ci]), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("line %d: count %q is not an integer >= 0", row, shorten(rec[ci]))
		}
		if err := addLabelCount(rec[li], n, c); err != nil {
			return fmt.Errorf("line %d: %w", row, err)
		}
	}
}

// countLabelCountParquet reads an aggregated label,count Parquet table.
func countLabelCountParquet(path string, opt Options, c *counter) (err error) {
	defer recoverParquet(&err)
	pf, f, err := openParquet(path)
	if err != nil {
		return err
	}
	defer f.Close()
	labelName, countName := labelCountColumns(opt)
	lc, err := findColumn(pf, labelName, "--column")
	if err != nil {
		return err
	}
	cc, err := findColumn(pf, countName, "--count-column")
	if err != nil {
		return err
	}
	for _, idx := range []int{lc.index, cc.index} {
		if err := checkParquetChunks(pf, f, idx); err != nil {
			return err
		}
	}
	if lc.list || cc.list || cc.kind == parquet.ByteArray {
		return fmt.Errorf("columns %q and %q must be a label (id or name) and an integer count", labelName, countName)
	}
	labels, err := columnValues(pf, lc.index)
	if err != nil {
		return err
	}
	counts, err := columnValues(pf, cc.index)
	if err != nil {
		return err
	}
	if len(labels) != len(counts) {
		return fmt.Errorf("columns %q and %q have %d and %d values: fill the nulls", labelName, countName, len(labels), len(counts))
	}
	for i := range labels {
		n := counts[i].Int64()
		if counts[i].Kind() == parquet.Int32 {
			n = int64(counts[i].Int32())
		}
		if n < 0 {
			return fmt.Errorf("row %d: count %d is negative", i, n)
		}
		if err := addValue(labels[i], n, c); err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
	}
	return nil
}

// columnValues reads every value of a (small) column, nulls being an error.
func columnValues(pf *parquet.File, index int) ([]parquet.Value, error) {
	var out []parquet.Value
	buf := make([]parquet.Value, 1024)
	err := eachPage(pf, index, func(p parquet.Page) error {
		if p.NumNulls() > 0 {
			return errors.New("a label or count is null: fill or drop such rows")
		}
		vr := p.Values()
		for {
			n, err := vr.ReadValues(buf)
			for _, v := range buf[:n] {
				out = append(out, v.Clone())
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading values: %v", oneLine(err.Error()))
			}
			if len(out) > 4*MaxAutoClasses {
				return fmt.Errorf("more than %d rows: this does not look like aggregated counts (use --format parquet for a label column)", 4*MaxAutoClasses)
			}
		}
	})
	return out, err
}
