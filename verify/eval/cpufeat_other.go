//go:build !amd64

package eval

// haveAVX512 is false off amd64: the portable loops run.
var haveAVX512 = false
