// Command parquetlibs measures the two maintained pure-Go Parquet readers,
// apache/arrow-go and parquet-go/parquet-go, on the job onnxloss counts
// does: read one label column of a file and count each value. Run it
// through scripts/bench-parquet-libs.sh.
package main

import (
	"fmt"
	"hash/fnv"
	"os"
	"sort"
	"time"
)

// readers holds the libraries built in (build tags arrow and pqgo).
var readers = map[string]func(path, col string) ([]int64, map[string]int64, error){}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: parquetlibs arrow|parquet-go FILE COLUMN")
		os.Exit(2)
	}
	lib, path, col := os.Args[1], os.Args[2], os.Args[3]
	start := time.Now()
	var counts map[string]int64
	var ints []int64
	var err error
	if read, ok := readers[lib]; ok {
		ints, counts, err = read(path, col)
	} else {
		err = fmt.Errorf("library %q is not built in", lib)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var total int64
	for _, n := range ints {
		total += n
	}
	for _, n := range counts {
		total += n
	}
	// A digest of the counts, so the two libraries' answers can be compared.
	h := fnv.New64a()
	for i, n := range ints {
		fmt.Fprintf(h, "%d=%d\n", i, n)
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(h, "%s=%d\n", k, counts[k])
	}
	fmt.Printf("%s: %d values (%d int classes, %d string classes, digest %016x) in %.2fs\n", lib, total, len(ints), len(counts), h.Sum64(), time.Since(start).Seconds())
}

func bump(ints []int64, v int64) []int64 {
	for int64(len(ints)) <= v {
		ints = append(ints, 0)
	}
	ints[v]++
	return ints
}
