//go:build amd64

package eval

import "golang.org/x/sys/cpu"

// haveAVX512 reports whether the CPU and OS support the AVX-512 subsets the
// softmax row kernels use (F for the arithmetic and masks, DQ for
// VEXTRACTF32X8).
var haveAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// The AVX-512 row kernels of softmax_amd64.s; each takes any length.

//go:noescape
func maxF32x512(x []float32) float32

//go:noescape
func sumExpShift512(x []float32, m float32) float64

//go:noescape
func expShiftStore512(o, x []float32, m float32) float64

func sfence512()
