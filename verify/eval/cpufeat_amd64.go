//go:build amd64

package eval

import "golang.org/x/sys/cpu"

// haveAVX512 reports whether the CPU and OS support the AVX-512 subsets the
// evaluator's 16-lane kernels use (F, DQ, BW and VL, with the OS saving the
// opmask and zmm state), and AVX2/FMA as every such CPU does. It is a
// variable so that tests can turn the AVX-512 paths off and check the AVX2
// and portable ones on the same machine. Every file's AVX-512 kernels share
// this one switch.
var haveAVX512 = haveAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
