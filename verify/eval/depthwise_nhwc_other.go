//go:build !amd64

package eval

// Without amd64 the channel-minor depthwise path is not taken (haveAVX512
// is false).

func dwBlockAVX512(o, x, w, bias *float32, mask, cs, ohw, ntaps, nb, xis, ois int, plan *int) {
	panic("dwBlockAVX512 needs amd64")
}

func permBlocksAVX512(dst, src *float32, prog *int, nvec int, idx *int32, nblk, dblk, sblk int) {
	panic("permBlocksAVX512 needs amd64")
}
