package labelcounts

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// parquetColumn is the label column of a Parquet file.
type parquetColumn struct {
	name  string
	index int  // leaf column index
	list  bool // a repeated (list) column: each row holds a set of labels
	kind  parquet.Kind
}

// openParquet opens a Parquet file.
func openParquet(path string) (*parquet.File, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot be read: %v", errors.Unwrap(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cannot be read: %v", err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("is not a valid Parquet file: %v", oneLine(err.Error()))
	}
	return pf, f, nil
}

// findColumn finds the top-level column name (the only column when name is
// "") and the leaf below it that holds its values.
func findColumn(pf *parquet.File, name, flag string) (parquetColumn, error) {
	fields := pf.Schema().Fields()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name()
	}
	var field parquet.Field
	for _, f := range fields {
		if f.Name() == name || (name == "" && len(fields) == 1) {
			field = f
		}
	}
	if field == nil {
		if name == "" {
			return parquetColumn{}, fmt.Errorf("has %d columns (%s): pick the labels with %s NAME", len(fields), strings.Join(names, ", "), flag)
		}
		return parquetColumn{}, fmt.Errorf("has no column %q (it has %s): fix %s", name, strings.Join(names, ", "), flag)
	}
	// Walk down a list group (list<element>) to its leaf.
	path := []string{field.Name()}
	var node parquet.Node = field
	for !node.Leaf() {
		sub := node.Fields()
		if len(sub) != 1 {
			return parquetColumn{}, fmt.Errorf("column %q is a struct of %d fields: want integer ids, strings, or a list of them", field.Name(), len(sub))
		}
		path = append(path, sub[0].Name())
		node = sub[0]
	}
	leaf, ok := pf.Schema().Lookup(path...)
	if !ok {
		return parquetColumn{}, fmt.Errorf("column %q cannot be found in the schema", strings.Join(path, "."))
	}
	kind := node.Type().Kind()
	switch kind {
	case parquet.Int32, parquet.Int64, parquet.ByteArray:
	default:
		return parquetColumn{}, fmt.Errorf("column %q holds %s values: want integer class ids, string names, or a list of them", field.Name(), node.Type())
	}
	return parquetColumn{name: field.Name(), index: leaf.ColumnIndex, list: leaf.MaxRepetitionLevel > 0, kind: kind}, nil
}

// countParquet counts the label column (opt.Column) of a Parquet file:
// integer ids or string names; a list column holds the labels of each row
// (multi-hot), and Samples counts its rows. Dictionary-encoded pages (what
// pyarrow, Spark and DuckDB write by default) are counted by dictionary
// index and each distinct value is looked up once.
func countParquet(path string, opt Options, c *counter) error {
	pf, f, err := openParquet(path)
	if err != nil {
		return err
	}
	defer f.Close()
	col, err := findColumn(pf, opt.Column, "--column")
	if err != nil {
		return err
	}
	var row int64
	err = eachPage(pf, col.index, func(p parquet.Page) error {
		if col.list {
			c.samples += p.NumRows()
		} else if p.NumNulls() > 0 {
			return fmt.Errorf("column %q has a null label near row %d: fill or drop rows without a label", col.name, row)
		}
		row += p.NumRows()
		return countPage(p, c)
	})
	if opt.Progress != nil {
		if st, err := f.Stat(); err == nil {
			opt.Progress.addBytes(st.Size())
		}
	}
	return err
}

// eachPage calls fn for every page of leaf column index.
func eachPage(pf *parquet.File, index int, fn func(parquet.Page) error) error {
	for g, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[index].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return fmt.Errorf("row group %d: %v", g, oneLine(err.Error()))
			}
			err = fn(p)
			parquet.Release(p)
			if err != nil {
				pages.Close()
				return err
			}
		}
		pages.Close()
	}
	return nil
}

// countPage counts the non-null values of one page.
func countPage(p parquet.Page, c *counter) error {
	if d := p.Dictionary(); d != nil {
		data := p.Data()
		idx := data.Int32()
		hist := make([]int64, d.Len())
		for _, i := range idx {
			if i < 0 || int(i) >= len(hist) {
				return fmt.Errorf("dictionary index %d out of range", i)
			}
			hist[i]++
		}
		for i, n := range hist {
			if n > 0 {
				if err := addValue(d.Index(int32(i)), n, c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	buf := make([]parquet.Value, 4096)
	vr := p.Values()
	for {
		n, err := vr.ReadValues(buf)
		for _, v := range buf[:n] {
			if v.IsNull() {
				continue
			}
			if err := addValue(v, 1, c); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading values: %v", oneLine(err.Error()))
		}
	}
}

// addValue counts n labels of the Parquet value v.
func addValue(v parquet.Value, n int64, c *counter) error {
	switch v.Kind() {
	case parquet.Int32:
		return c.addN(int64(v.Int32()), n)
	case parquet.Int64:
		return c.addN(v.Int64(), n)
	case parquet.ByteArray:
		return c.addName(string(v.ByteArray()), n)
	}
	return fmt.Errorf("value of kind %s: want integer class ids or string names", v.Kind())
}
