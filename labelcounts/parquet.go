package labelcounts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/snappy"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
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
	if err := checkParquetFrame(f, st.Size()); err != nil {
		f.Close()
		return nil, nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("is not a valid Parquet file: %v", oneLine(err.Error()))
	}
	return pf, f, nil
}

// checkParquetFrame checks the magic bytes and that the footer fits in the
// file before the reader allocates a buffer of the footer's claimed size.
func checkParquetFrame(f *os.File, size int64) error {
	var head, tail [8]byte
	if size < 12 {
		return errors.New("is not a Parquet file: too short")
	}
	if _, err := f.ReadAt(head[:4], 0); err != nil {
		return fmt.Errorf("cannot be read: %v", err)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("cannot be read: %v", err)
	}
	if string(head[:4]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return errors.New("is not a Parquet file: it does not start and end with PAR1")
	}
	if footer := int64(binary.LittleEndian.Uint32(tail[:4])); footer > size-12 {
		return fmt.Errorf("is not a valid Parquet file: its footer claims %d bytes, more than the file holds (truncated?)", footer)
	}
	return nil
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
func countParquet(path string, opt Options, c *counter) (err error) {
	defer recoverParquet(&err)
	pf, f, err := openParquet(path)
	if err != nil {
		return err
	}
	defer f.Close()
	col, err := findColumn(pf, opt.Column, "--column")
	if err != nil {
		return err
	}
	if err := checkParquetChunks(pf, f, col.index); err != nil {
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

// checkPayload checks, for the codecs whose decoders size their output from
// the data itself, that a page decompresses within maxPageBytes: the
// LZ4_RAW decoder doubles its buffer until the data decodes, so a corrupt
// page would exhaust memory, and a Snappy block states its length up front.
func checkPayload(r io.ReaderAt, codec format.CompressionCodec, h *format.PageHeader, off int64) error {
	if codec != format.Lz4Raw && codec != format.Snappy {
		return nil
	}
	data := make([]byte, h.CompressedPageSize)
	if _, err := r.ReadAt(data, off); err != nil {
		return fmt.Errorf("cannot read a page: %v", err)
	}
	if v2 := h.DataPageHeaderV2; v2.Valid {
		if v2.V.IsCompressed.Valid && !v2.V.IsCompressed.V {
			return nil
		}
		levels := int64(v2.V.RepetitionLevelsByteLength) + int64(v2.V.DefinitionLevelsByteLength)
		if levels > int64(len(data)) {
			return errors.New("a page's levels are longer than the page")
		}
		data = data[levels:]
	}
	switch codec {
	case format.Snappy:
		n, err := snappy.DecodedLen(data)
		if err != nil || n > maxPageBytes {
			return fmt.Errorf("a Snappy page is corrupt or decodes to more than %d MiB", maxPageBytes>>20)
		}
	case format.Lz4Raw:
		if _, err := lz4.UncompressBlock(data, make([]byte, h.UncompressedPageSize)); err != nil {
			return errors.New("an LZ4 page is corrupt or longer than its header says")
		}
	}
	return nil
}

// checkParquetChunks runs checkPageHeaders on the file f.
func checkParquetChunks(pf *parquet.File, f *os.File, index int) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot be read: %v", err)
	}
	return checkPageHeaders(pf, f, st.Size(), index)
}

// recoverParquet turns a panic of the Parquet reader on a corrupt file
// into an error: bad input must never crash the tool.
func recoverParquet(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("is not a valid Parquet file (the reader failed: %v)", oneLine(fmt.Sprint(r)))
	}
}

// Bounds on what one page may claim, checked before the reader allocates
// for it: a corrupt or hostile header must not ask for gigabytes. Writers
// use pages of about 1 MiB (pyarrow, Spark, DuckDB), far below these.
const (
	maxPageBytes  = 256 << 20
	maxPageValues = 1 << 25
)

// checkPageHeaders reads the page headers of leaf column index in every
// row group and rejects sizes beyond maxPageBytes and maxPageValues.
func checkPageHeaders(pf *parquet.File, r io.ReaderAt, size int64, index int) error {
	var protocol thrift.CompactProtocol
	buf := make([]byte, 64<<10)
	for g, rg := range pf.Metadata().RowGroups {
		if index >= len(rg.Columns) {
			return fmt.Errorf("is not a valid Parquet file: row group %d lacks column %d", g, index)
		}
		md := rg.Columns[index].MetaData
		off := md.DataPageOffset
		if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < off {
			off = md.DictionaryPageOffset
		}
		end := off + md.TotalCompressedSize
		if off < 4 || md.TotalCompressedSize < 0 || end > size {
			return fmt.Errorf("is not a valid Parquet file: row group %d's column chunk lies outside the file", g)
		}
		for off < end {
			n, err := r.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
			if n == 0 && err != nil {
				return fmt.Errorf("cannot be read: %v", err)
			}
			br := bytes.NewReader(buf[:n])
			var h format.PageHeader
			if err := thrift.NewDecoder(protocol.NewReader(br)).Decode(&h); err != nil {
				return fmt.Errorf("is not a valid Parquet file: row group %d: bad page header: %v", g, oneLine(err.Error()))
			}
			values := int64(0)
			switch {
			case h.DataPageHeader.Valid:
				values = int64(h.DataPageHeader.V.NumValues)
			case h.DataPageHeaderV2.Valid:
				values = int64(h.DataPageHeaderV2.V.NumValues)
			case h.DictionaryPageHeader.Valid:
				values = int64(h.DictionaryPageHeader.V.NumValues)
			}
			if h.UncompressedPageSize < 0 || h.CompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes || values < 0 || values > maxPageValues {
				return fmt.Errorf("is not a valid Parquet file: row group %d has a page of %d bytes and %d values (at most %d MiB and %d values are read)", g, h.UncompressedPageSize, values, maxPageBytes>>20, maxPageValues)
			}
			payload := off + int64(n-br.Len())
			if payload+int64(h.CompressedPageSize) > end {
				return fmt.Errorf("is not a valid Parquet file: row group %d has a page beyond its column chunk", g)
			}
			if err := checkPayload(r, md.Codec, &h, payload); err != nil {
				return fmt.Errorf("is not a valid Parquet file: row group %d: %v", g, err)
			}
			off = payload + int64(h.CompressedPageSize)
		}
	}
	return nil
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
