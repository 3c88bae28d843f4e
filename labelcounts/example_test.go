package labelcounts_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/onnxloss/onnxloss/labelcounts"
)

func ExampleCount() {
	labels := "# one label per line\n0\n2\n2\n-100\n2\n"
	ignore := int64(-100)
	res, err := labelcounts.Count(strings.NewReader(labels), labelcounts.Options{NumClasses: 4, IgnoreIndex: &ignore})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Counts, res.Labels, res.Ignored)

	_, err = labelcounts.Count(strings.NewReader("0\ncat\n"), labelcounts.Options{})
	fmt.Println(err)
	// Output:
	// [1 0 3 0] 5 1
	// line 2: "cat" is not an integer label: want one class id (0, 1, …) per line
}

func ExampleCountsJSON() {
	b, _ := labelcounts.CountsJSON([]int64{500, 120, 7}, []string{"cat", "dog", "eel"})
	os.Stdout.Write(b)
	b, _ = labelcounts.CountsJSON([]int64{500, 120, 7}, nil)
	os.Stdout.Write(b)
	// Output:
	// {"counts":[500,120,7],"classes":["cat","dog","eel"]}
	// [500,120,7]
}

func ExampleCountInputs() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	// An aggregated table, as DuckDB or Spark write it, split in two parts.
	os.WriteFile(dir+"/part-0.csv", []byte("label,count\ncat,500\ndog,120\n"), 0o644)
	os.WriteFile(dir+"/part-1.csv", []byte("label,count\neel,7\ncat,20\n"), 0o644)
	res, err := labelcounts.CountInputs([]string{dir + "/part-*.csv"}, labelcounts.Options{Format: labelcounts.LabelCount})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Classes, res.Counts, res.Files)
	// Output:
	// [cat dog eel] [520 120 7] 2
}
