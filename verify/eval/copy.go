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

// tileSide is the side of the square tiles transposeTiled copies: 32
// four-byte elements are two 64-byte cache lines.
const tileSide = 32

// transposeTiled is stridedT for a transpose: the innermost dim q of the
// (contiguous) destination is strided in the source, while dim p is the
// source's contiguous one. Copying element by element along q would read
// one element per source cache line; copying tileSide×tileSide tiles of the
// (p, q) plane reads and writes whole lines, and 4-byte elements go through
// 8×8 register transposes (AVX2). The other dims are a batch.
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
	var z T
	var d32, s32 []uint32
	if unsafe.Sizeof(z) == 4 && haveAVX2 && sq > 0 && transposeKernels {
		d32 = unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
		s32 = unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	}
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
				a8, b8 := a0, b0 // the 8×8-block part ends at a8, b8
				if d32 != nil {
					na8, nb8 := (a1-a0)/8, (b1-b0)/8
					if na8 > 0 && nb8 > 0 {
						a8, b8 = a0+8*na8, b0+8*nb8
						// Bounds: the blocks' last elements exist (the kernel checks nothing).
						_ = d32[db+(a8-1)*dp+b8-1]
						_ = s32[sb+a8-1+(b8-1)*sq]
						transpose32AVX2(&d32[db+a0*dp+b0], dp, &s32[sb+a0+b0*sq], sq, nb8, na8)
					} else {
						a8, b8 = a0, b0
					}
				}
				for a := a0; a < a1; a++ {
					from := b0
					if a < a8 {
						from = b8 // columns b0..b8 of this row were done in blocks
					}
					dd := d[db+a*dp+from : db+a*dp+b1]
					si := sb + a + from*sq
					for b := range dd {
						dd[b] = s[si]
						si += sq
					}
				}
			}
		}
	})
}

// transposeKernels selects the AVX2 8×8 transposes (tests switch it off to
// check the portable loop).
var transposeKernels = true

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
