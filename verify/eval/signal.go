package eval

import (
	"fmt"
	"math"
)

// DFT is not implemented: its inverse node tests expect the float32
// rounding of a float32 FFT (imaginary parts of 1.9e-7 where the exact
// value is 3e-15), beyond the conformance tolerance, so an exact DFT
// cannot pass them.

func init() {
	register("signal", true, map[string]opFunc{
		"HannWindow":     windowOp([]float64{0.5, 0.5}),
		"HammingWindow":  windowOp([]float64{25.0 / 46, 21.0 / 46}),
		"BlackmanWindow": windowOp([]float64{0.42, 0.5, 0.08}),
	})
}

// windowOp builds a generalized cosine window Σ_k (-1)^k a_k cos(2πkn/N),
// N = size (periodic) or size-1 (symmetric).
func windowOp(a []float64) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		if err := needInputs(in, 1, 1); err != nil {
			return nil, err
		}
		size, err := scalarInt(in[0], "size")
		if err != nil {
			return nil, err
		}
		if size < 0 {
			return nil, fmt.Errorf("size %d is negative", size)
		}
		dt := DType(c.attrInt("output_datatype", int64(Float32)))
		if !dt.Supported() {
			return nil, fmt.Errorf("unsupported output_datatype %v", dt)
		}
		N := float64(size)
		if c.attrInt("periodic", 1) == 0 {
			N = float64(size - 1)
		}
		o := mustNew(dt, []int64{size})
		for n := 0; n < int(size); n++ {
			v := 0.0
			for k, ak := range a {
				term := ak * math.Cos(2*math.Pi*float64(k)*float64(n)/N)
				if k%2 == 1 {
					term = -term
				}
				v += term
			}
			o.setF64(n, v)
		}
		return []*Tensor{o}, nil
	}
}
