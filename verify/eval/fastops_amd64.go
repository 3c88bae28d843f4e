//go:build amd64

package eval

// AVX2 loops in fastops_amd64.s: each handles the first len(o)&^7
// elements; see fastops.go for the wrappers that finish the tail.

//go:noescape
func addVV32(o, a, b []float32)

//go:noescape
func subVV32(o, a, b []float32)

//go:noescape
func mulVV32(o, a, b []float32)

//go:noescape
func divVV32(o, a, b []float32)

//go:noescape
func addVS32(o, a []float32, s float32)

//go:noescape
func subVS32(o, a []float32, s float32)

//go:noescape
func mulVS32(o, a []float32, s float32)

//go:noescape
func divVS32(o, a []float32, s float32)

//go:noescape
func subSV32(o, a []float32, s float32)

//go:noescape
func divSV32(o, a []float32, s float32)

//go:noescape
func negSlice32(o, x []float32)

//go:noescape
func absSlice32(o, x []float32)

//go:noescape
func reluSlice32(o, x []float32)

//go:noescape
func boolToF32(o []float32, b []bool)

//go:noescape
func maxLanes32(x []float32, m *[8]float32)

// AVX-512 loops in fastops512_amd64.s: any length; stream selects
// non-temporal stores (see there).

//go:noescape
func addVV512(o, a, b []float32, stream bool)

//go:noescape
func subVV512(o, a, b []float32, stream bool)

//go:noescape
func mulVV512(o, a, b []float32, stream bool)

//go:noescape
func divVV512(o, a, b []float32, stream bool)

//go:noescape
func addVS512(o, a []float32, s float32, stream bool)

//go:noescape
func subVS512(o, a []float32, s float32, stream bool)

//go:noescape
func mulVS512(o, a []float32, s float32, stream bool)

//go:noescape
func divVS512(o, a []float32, s float32, stream bool)

//go:noescape
func subSV512(o, a []float32, s float32, stream bool)

//go:noescape
func divSV512(o, a []float32, s float32, stream bool)

//go:noescape
func eqVS64x512(o []bool, a []int64, s int64)

//go:noescape
func eqVV64x512(o []bool, a, b []int64)
