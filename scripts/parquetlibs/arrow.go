//go:build arrow

package main

import (
	"fmt"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

func init() { readers["arrow"] = withArrow }

func withArrow(path, col string) ([]int64, map[string]int64, error) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Close()
	idx := rdr.MetaData().Schema.ColumnIndexByName(col)
	if idx < 0 {
		return nil, nil, fmt.Errorf("no column %q", col)
	}
	var ints []int64
	strs := map[string]int64{}
	const batch = 1 << 16
	i64 := make([]int64, batch)
	ba := make([]parquet.ByteArray, batch)
	def := make([]int16, batch)
	for g := 0; g < rdr.NumRowGroups(); g++ {
		cr, err := rdr.RowGroup(g).Column(idx)
		if err != nil {
			return nil, nil, err
		}
		for cr.HasNext() {
			switch r := cr.(type) {
			case *file.Int64ColumnChunkReader:
				_, n, err := r.ReadBatch(batch, i64, def, nil)
				if err != nil {
					return nil, nil, err
				}
				for _, v := range i64[:n] {
					ints = bump(ints, v)
				}
			case *file.ByteArrayColumnChunkReader:
				_, n, err := r.ReadBatch(batch, ba, def, nil)
				if err != nil {
					return nil, nil, err
				}
				for _, v := range ba[:n] {
					strs[string(v)]++
				}
			default:
				return nil, nil, fmt.Errorf("column type %T", cr)
			}
		}
	}
	return ints, strs, nil
}
