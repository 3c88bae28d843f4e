package eval

import (
	"fmt"
	"sort"
	"strings"
)

func init() {
	register("einsum", true, map[string]opFunc{
		"Einsum": opEinsum,
	})
}

// einsumTerm is one operand's subscripts, with '.' expanded to the
// ellipsis labels (upper-case-free runes above 'z').
type einsumTerm []rune

// parseEinsum splits an equation into input terms and the output term,
// expanding "..." to as many private labels as the operand has extra dims
// and deriving the implicit output (ellipsis dims, then labels used once,
// sorted) when there is no "->".
func parseEinsum(eq string, ranks []int) ([]einsumTerm, einsumTerm, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	parts := strings.Split(lhs, ",")
	if len(parts) != len(ranks) {
		return nil, nil, fmt.Errorf("equation %q has %d operands, node has %d inputs", eq, len(parts), len(ranks))
	}
	// The ellipsis covers rank - (named labels) dims of each operand; the
	// ellipses align to the right, as in NumPy broadcasting.
	ell := 0
	named := func(s string) int {
		if strings.Contains(s, "...") {
			return len(s) - 3
		}
		return len(s)
	}
	for i, p := range parts {
		if strings.Contains(p, "...") {
			ell = max(ell, ranks[i]-named(p))
		}
	}
	expand := func(s string, rank int) (einsumTerm, error) {
		var t einsumTerm
		for i := 0; i < len(s); i++ {
			if strings.HasPrefix(s[i:], "...") {
				n := ell
				if rank >= 0 {
					n = rank - named(s)
				}
				if n < 0 {
					return nil, fmt.Errorf("term %q needs more dims than the operand's %d", s, rank)
				}
				for j := ell - n; j < ell; j++ {
					t = append(t, rune(0x1000+j))
				}
				i += 2
				continue
			}
			r := rune(s[i])
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return nil, fmt.Errorf("bad character %q in equation %q", r, eq)
			}
			t = append(t, r)
		}
		if rank >= 0 && len(t) != rank {
			return nil, fmt.Errorf("term %q has %d labels for an operand of rank %d", s, len(t), rank)
		}
		return t, nil
	}
	var ins []einsumTerm
	for i, p := range parts {
		t, err := expand(p, ranks[i])
		if err != nil {
			return nil, nil, err
		}
		ins = append(ins, t)
	}
	if explicit {
		out, err := expand(rhs, -1)
		return ins, out, err
	}
	count := map[rune]int{}
	for _, t := range ins {
		for _, r := range t {
			count[r]++
		}
	}
	var out einsumTerm
	for j := 0; j < ell; j++ {
		out = append(out, rune(0x1000+j))
	}
	var once []rune
	for r, n := range count {
		if n == 1 && r < 0x1000 {
			once = append(once, r)
		}
	}
	sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
	return ins, append(out, once...), nil
}

// opEinsum sums products over every assignment of the labels (float64
// accumulation); operands are broadcast along ellipsis dims of size 1.
func opEinsum(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("needs at least one input")
	}
	ranks := make([]int, len(in))
	for i, t := range in {
		if t == nil {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		ranks[i] = t.Rank()
	}
	ins, out, err := parseEinsum(c.attrString("equation", ""), ranks)
	if err != nil {
		return nil, err
	}
	size := map[rune]int64{}
	for i, t := range ins {
		for d, r := range t {
			n := in[i].shape[d]
			if s, ok := size[r]; ok && s != n {
				switch {
				case s == 1 && r >= 0x1000:
					size[r] = n
				case n == 1 && r >= 0x1000:
				default:
					return nil, fmt.Errorf("label %q has sizes %d and %d", r, s, n)
				}
				continue
			}
			size[r] = n
		}
	}
	var labels []rune
	pos := map[rune]int{}
	add := func(r rune) {
		if _, ok := pos[r]; !ok {
			pos[r] = len(labels)
			labels = append(labels, r)
		}
	}
	for _, r := range out {
		if _, ok := size[r]; !ok {
			return nil, fmt.Errorf("output label %q appears in no input", r)
		}
		add(r)
	}
	for _, t := range ins {
		for _, r := range t {
			add(r)
		}
	}
	dims := make([]int64, len(labels))
	for i, r := range labels {
		dims[i] = size[r]
	}
	// Strides of each operand over the label space (0 where broadcast).
	strides := make([][]int64, len(in))
	vals := make([][]float64, len(in))
	for i, t := range ins {
		st := make([]int64, len(labels))
		os := stridesOf(in[i].shape)
		for d, r := range t {
			if in[i].shape[d] != 1 || size[r] == 1 {
				st[pos[r]] += os[d]
			}
		}
		strides[i] = st
		vals[i] = floatView(in[i])
	}
	oshape := make([]int64, len(out))
	for i, r := range out {
		oshape[i] = size[r]
	}
	acc := make([]float64, NumElements(oshape))
	ostr := stridesOf(oshape)
	odometer(dims, func(idx []int64) {
		p := 1.0
		for i := range in {
			off := int64(0)
			for d, v := range idx {
				off += v * strides[i][d]
			}
			p *= vals[i][off]
		}
		o := int64(0)
		for d := range out {
			o += idx[d] * ostr[d]
		}
		acc[o] += p
	})
	res := mustNew(in[0].dtype, oshape)
	for i, v := range acc {
		res.setF64(i, v)
	}
	return []*Tensor{res}, nil
}
