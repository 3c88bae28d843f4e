package labelcounts

import (
	"bytes"
	"strconv"
	"testing"
)

func BenchmarkCountText(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 1_000_000; i++ {
		buf.WriteString(strconv.Itoa(i % 1000))
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Count(bytes.NewReader(data), Options{Format: Text}); err != nil {
			b.Fatal(err)
		}
	}
}
