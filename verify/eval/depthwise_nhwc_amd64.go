//go:build amd64

package eval

// dwBlockAVX512 (depthwise_nhwc_amd64.s) computes one block of ≤16
// channels of a depthwise convolution on every image; see channelPlan.
//
//go:noescape
func dwBlockAVX512(o, x, w, bias *float32, mask, cs, ohw, ntaps, nb, xis, ois int, plan *int)

// permBlocksAVX512 (depthwise_nhwc_amd64.s) runs a shortTransposeProg
// program on nblk blocks.
//
//go:noescape
func permBlocksAVX512(dst, src *float32, prog *int, nvec int, idx *int32, nblk, dblk, sblk int)
