//go:build pqgo

package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	pq "github.com/parquet-go/parquet-go"
)

func init() { readers["parquet-go"] = withParquetGo }

func withParquetGo(path, col string) ([]int64, map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		return nil, nil, err
	}
	leaf, ok := pf.Schema().Lookup(col)
	if !ok {
		return nil, nil, fmt.Errorf("no column %q", col)
	}
	var ints []int64
	strs := map[string]int64{}
	buf := make([]pq.Value, 1<<14)
	i64 := make([]int64, 1<<16)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			if d := p.Dictionary(); d != nil {
				// Dictionary-encoded page (what pyarrow, Spark and DuckDB
				// write by default): count the indices, then look each
				// distinct one up once.
				data := p.Data()
				idx := data.Int32()
				hist := make([]int64, d.Len())
				for _, i := range idx {
					hist[i]++
				}
				for i, n := range hist {
					if n == 0 {
						continue
					}
					v := d.Index(int32(i))
					if v.Kind() == pq.ByteArray {
						strs[string(v.ByteArray())] += n
					} else {
						for int64(len(ints)) <= v.Int64() {
							ints = append(ints, 0)
						}
						ints[v.Int64()] += n
					}
				}
				pq.Release(p)
				continue
			}
			vr := p.Values()
			if ir, ok := vr.(pq.Int64Reader); ok {
				// The typed fast path: no parquet.Value per element.
				for {
					n, err := ir.ReadInt64s(i64)
					for _, v := range i64[:n] {
						ints = bump(ints, v)
					}
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						return nil, nil, err
					}
				}
				pq.Release(p)
				continue
			}
			for {
				n, err := vr.ReadValues(buf)
				for _, v := range buf[:n] {
					if v.Kind() == pq.ByteArray {
						strs[string(v.ByteArray())]++
					} else {
						ints = bump(ints, v.Int64())
					}
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return nil, nil, err
				}
			}
			pq.Release(p)
		}
		pages.Close()
	}
	return ints, strs, nil
}
