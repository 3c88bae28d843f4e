package eval

import "unsafe"

func viewAs[T any](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(z)))
}

// stridedCopy fills dst (contiguous, with the given shape) from src read as a
// view: element idx comes from src flat offset off + Σ idx[d]*str[d].
func stridedCopy(dst, src *Tensor, shape, str []int64, off int64) {
	// Coalesce: drop size-1 dims, merge dims that are contiguous in src.
	var sh, st []int64
	for i := range shape {
		if shape[i] == 1 {
			continue
		}
		if k := len(sh); k > 0 && st[k-1] == str[i]*shape[i] {
			sh[k-1] *= shape[i]
			st[k-1] = str[i]
			continue
		}
		sh = append(sh, shape[i])
		st = append(st, str[i])
	}
	if NumElements(shape) == 0 {
		return
	}
	db, sb := dst.bytes(), src.bytes()
	switch dst.dtype.Size() {
	case 1:
		stridedT(viewAs[uint8](db), viewAs[uint8](sb), sh, st, off)
	case 2:
		stridedT(viewAs[uint16](db), viewAs[uint16](sb), sh, st, off)
	case 4:
		stridedT(viewAs[uint32](db), viewAs[uint32](sb), sh, st, off)
	case 8:
		stridedT(viewAs[uint64](db), viewAs[uint64](sb), sh, st, off)
	}
}

func stridedT[T any](d, s []T, shape, str []int64, off int64) {
	if len(shape) == 0 {
		d[0] = s[off]
		return
	}
	nd := len(shape)
	if str[nd-1] != 1 && shape[nd-1] > 1 {
		for p := 0; p < nd-1; p++ {
			if str[p] == 1 {
				transposeTiled(d, s, shape, str, off, p)
				return
			}
		}
	}
	inner := int(shape[nd-1])
	istr := str[nd-1]
	outer := shape[:nd-1]
	ostr := str[:nd-1]
	rows := int(NumElements(outer))
	parallelFor(rows, inner, func(lo, hi int) {
		idx := make([]int64, len(outer))
		rem := int64(lo)
		so := off
		for k := len(outer) - 1; k >= 0; k-- {
			idx[k] = rem % outer[k]
			rem /= outer[k]
			so += idx[k] * ostr[k]
		}
		for r := lo; r < hi; r++ {
			dd := d[r*inner : (r+1)*inner]
			if istr == 1 {
				copy(dd, s[so:so+int64(inner)])
			} else {
				p := so
				for i := range dd {
					dd[i] = s[p]
					p += istr
				}
			}
			for k := len(outer) - 1; k >= 0; k-- {
				idx[k]++
				so += ostr[k]
				if idx[k] < outer[k] {
					break
				}
				so -= ostr[k] * idx[k]
				idx[k] = 0
			}
		}
	})
}

// tileSide is the side of the square tiles transposeTiled copies: 16
// four-byte elements are one 64-byte cache line.
const tileSide = 16

// transposeTiled is stridedT for a transpose: the innermost dim q of the
// (contiguous) destination is strided in the source, while dim p is the
// source's contiguous one. Copying element by element along q would read
// one element per source cache line; copying tileSide×tileSide tiles of the
// (p, q) plane reads and writes whole lines. The other dims are a batch.
func transposeTiled[T any](d, s []T, shape, str []int64, off int64, p int) {
	nd := len(shape)
	q := nd - 1
	dstr := stridesOf(shape)
	var oshape, ostr, odstr []int64
	for k := 0; k < q; k++ {
		if k != p {
			oshape = append(oshape, shape[k])
			ostr = append(ostr, str[k])
			odstr = append(odstr, dstr[k])
		}
	}
	np, nq := int(shape[p]), int(shape[q])
	dp, sq := int(dstr[p]), int(str[q])
	pTiles := (np + tileSide - 1) / tileSide
	tasks := int(NumElements(oshape)) * pTiles
	parallelFor(tasks, tileSide*nq, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			o, pt := t/pTiles, t%pTiles
			db, sb := 0, int(off)
			for k := len(oshape) - 1; k >= 0; k-- {
				i := o % int(oshape[k])
				o /= int(oshape[k])
				db += i * int(odstr[k])
				sb += i * int(ostr[k])
			}
			a0, a1 := pt*tileSide, min(pt*tileSide+tileSide, np)
			for b0 := 0; b0 < nq; b0 += tileSide {
				b1 := min(b0+tileSide, nq)
				for a := a0; a < a1; a++ {
					dd := d[db+a*dp+b0 : db+a*dp+b1]
					si := sb + a + b0*sq
					for b := range dd {
						dd[b] = s[si]
						si += sq
					}
				}
			}
		}
	})
}

// fillBytes repeats the es-byte value v over b.
func fillBytes(b, v []byte, es int) {
	switch es {
	case 4:
		d, x := viewAs[uint32](b), viewAs[uint32](v)[0]
		for i := range d {
			d[i] = x
		}
	case 8:
		d, x := viewAs[uint64](b), viewAs[uint64](v)[0]
		for i := range d {
			d[i] = x
		}
	default:
		for i := 0; i+es <= len(b); i += es {
			copy(b[i:i+es], v)
		}
	}
}
