package eval

import "testing"

// FuzzParseEinsum: any equation, with operands of any small rank, parses or
// returns an error; it never panics, and a parsed term has one label per
// operand dim.
func FuzzParseEinsum(f *testing.F) {
	for _, s := range []string{"ij,jk->ik", "...ii->...i", "bij,bjk", "i,i", "...,...->...", "a...b,b...c->ac", "->", ",", "......", "i->j"} {
		f.Add(s, uint8(2), uint8(3))
	}
	f.Fuzz(func(t *testing.T, eq string, r0, r1 uint8) {
		ranks := []int{int(r0 % 6), int(r1 % 6)}
		if len(eq) > 64 {
			return
		}
		ins, _, err := parseEinsum(eq, ranks)
		if err != nil {
			return
		}
		for i, term := range ins {
			if len(term) != ranks[i] {
				t.Fatalf("%q: operand %d has %d labels for rank %d", eq, i, len(term), ranks[i])
			}
		}
	})
}
