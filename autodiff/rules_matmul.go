package autodiff

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
)

// Matrix products.

func init() {
	Register(
		&Rule{Op: "MatMul", Inputs: []int{0, 1}, Infer: inferMatMul, Grad: gradMatMul},
		&Rule{Op: "Gemm", Inputs: []int{0, 1, 2}, Infer: func(c *InferCtx) []Shape {
			a, b := c.In(0), c.In(1)
			s := rankShape(a.Elem, 2)
			if a.Known && len(a.Dims) == 2 {
				s.Dims[0] = a.Dims[boolAttr(c.AttrInt("transA", 0))]
			}
			if b.Known && len(b.Dims) == 2 {
				s.Dims[1] = b.Dims[1-boolAttr(c.AttrInt("transB", 0))]
			}
			return []Shape{s}
		}, Grad: gradGemm},
	)
}

func inferMatMul(c *InferCtx) []Shape {
	a, b := c.In(0), c.In(1)
	if !a.Known || !b.Known {
		return []Shape{unknownShape(a.Elem)}
	}
	ad, bd := a.Dims, b.Dims
	if len(ad) == 0 || len(bd) == 0 {
		return []Shape{unknownShape(a.Elem)}
	}
	if len(ad) == 1 {
		ad = append([]int64{1}, ad...)
	}
	if len(bd) == 1 {
		bd = append(append([]int64{}, bd...), 1)
	}
	batch := broadcastShapes(a.Elem, dimsShape(a.Elem, ad[:len(ad)-2]...), dimsShape(a.Elem, bd[:len(bd)-2]...))
	dims := append(batch.Dims, ad[len(ad)-2])
	dims = append(dims, bd[len(bd)-1])
	if len(a.Dims) == 1 {
		dims = append(dims[:len(dims)-2], dims[len(dims)-1])
	}
	if len(b.Dims) == 1 {
		dims = dims[:len(dims)-1]
	}
	return []Shape{dimsShape(a.Elem, dims...)}
}

// gradMatMul: self: grad @ other^T; other: self^T @ grad, with 1-D operands
// promoted as matmul does and batch broadcasting summed away.
func gradMatMul(c *Ctx) error {
	a, b, g := c.In(0), c.In(1), c.GradOut(0)
	as, bs, ys := c.Shape(a), c.Shape(b), c.Shape(c.Out(0))
	if !as.Known || !bs.Known {
		return fmt.Errorf("MatMul operands of unknown rank: %w", errNoShape)
	}
	ra, rb := len(as.Dims), len(bs.Dims)
	if ra == 0 || rb == 0 {
		return fmt.Errorf("MatMul of a scalar")
	}
	a2, b2, g2 := a, b, g
	ad, bd := as.Dims, bs.Dims
	if ra == 1 {
		a2 = c.Unsqueeze("a_row", a, []int64{0})
		ad = append([]int64{1}, ad...)
	}
	if rb == 1 {
		b2 = c.Unsqueeze("b_col", b, []int64{1})
		bd = append(append([]int64{}, bd...), 1)
	}
	ry := max(len(ad), len(bd))
	switch {
	case ra == 1 && rb == 1:
		g2 = c.Unsqueeze("g_mat", g, []int64{0, 1})
	case ra == 1:
		g2 = c.Unsqueeze("g_mat", g, []int64{int64(ry - 2)})
	case rb == 1:
		g2 = c.Unsqueeze("g_mat", g, []int64{int64(ry - 1)})
	}
	_ = ys
	tr := func(what, v string, r int) string {
		perm := make([]int64, r)
		for i := range perm {
			perm[i] = int64(i)
		}
		perm[r-1], perm[r-2] = perm[r-2], perm[r-1]
		return c.Op("Transpose", what, []string{v}, graphedit.AttrInts("perm", perm))
	}
	// reduce sums the batch axes the operand (dims d) was broadcast over.
	reduce := func(what, d string, dims []int64, orig string) string {
		lead := ry - len(dims)
		var axes []int64
		for i := 0; i < lead; i++ {
			axes = append(axes, int64(i))
		}
		yb := broadcastShapes(0, dimsShape(0, ad[:len(ad)-2]...), dimsShape(0, bd[:len(bd)-2]...))
		for i := 0; i < len(dims)-2; i++ {
			if dims[i] == 1 && yb.Dims[lead+i] != 1 {
				axes = append(axes, int64(lead+i))
			}
		}
		if len(axes) > 0 {
			d = c.ReduceSum(what+"_sum", d, axes, true)
		}
		if len(axes) > 0 || len(dims) != len(c.Shape(orig).Dims) {
			d = c.ReshapeLike(what, d, orig)
		}
		return d
	}
	if c.Need(0) {
		c.SetGrad(0, reduce("d_a", c.Op("MatMul", "d_a_full", []string{g2, tr("b_t", b2, len(bd))}), ad, a))
	}
	if c.Need(1) {
		c.SetGrad(1, reduce("d_b", c.Op("MatMul", "d_b_full", []string{tr("a_t", a2, len(ad)), g2}), bd, b))
	}
	return nil
}

// gradGemm: Y = alpha op(A) op(B) + beta C.
func gradGemm(c *Ctx) error {
	a, b, g := c.In(0), c.In(1), c.GradOut(0)
	ta, tb := boolAttr(c.AttrInt("transA", 0)), boolAttr(c.AttrInt("transB", 0))
	alpha, beta := c.AttrFloat("alpha", 1), c.AttrFloat("beta", 1)
	gemm := func(what, x, y string, tx, ty int64) string {
		return c.Op("Gemm", what, []string{x, y}, graphedit.AttrFloat("alpha", alpha),
			graphedit.AttrInt("transA", tx), graphedit.AttrInt("transB", ty))
	}
	if c.Need(0) {
		if ta == 0 {
			c.SetGrad(0, gemm("d_a", g, b, 0, 1-tb)) // alpha grad op(B)^T
		} else {
			c.SetGrad(0, gemm("d_a", b, g, tb, 1)) // alpha op(B) grad^T
		}
	}
	if c.Need(1) {
		if tb == 0 {
			c.SetGrad(1, gemm("d_b", a, g, 1-ta, 0)) // alpha op(A)^T grad
		} else {
			c.SetGrad(1, gemm("d_b", g, a, 1, ta)) // alpha grad^T op(A)
		}
	}
	if c.Need(2) {
		d := g
		if beta != 1 {
			d = c.Mul("d_c_scaled", g, c.Scalar("beta", float64(beta), c.In(2)))
		}
		r, err := c.Unbroadcast("d_c", d, c.In(2), c.Out(0))
		if err != nil {
			return err
		}
		c.SetGrad(2, r)
	}
	return nil
}

// boolAttr maps an integer attribute used as a boolean to 0 or 1.
func boolAttr(v int64) int64 {
	if v != 0 {
		return 1
	}
	return 0
}
