package eval

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

// Transpose, Slice, Pad and Concat against index-by-index references
// written from the ONNX definitions, on seeded random data of the element
// sizes the copies specialise (1, 2, 4, 8 bytes), with dims that are not
// multiples of the 16×16 tiles and tensors large enough to run in parallel.

// randTensor returns a seeded tensor of dt whose elements all differ.
func randTensor(r *rand.Rand, dt DType, shape ...int64) *Tensor {
	t := mustNew(dt, shape)
	base := r.Int63n(1000)
	for i := 0; i < t.Len(); i++ {
		t.setF64(i, float64((base+int64(i)*7919)%251+int64(i%3)))
	}
	if dt == Float32 {
		for i, v := range t.Float32s() {
			t.Float32s()[i] = v + float32(r.Float64())
		}
	}
	return t
}

// unravel returns the multi-index of flat offset i in shape.
func unravel(i int, shape []int64) []int64 {
	idx := make([]int64, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = int64(i) % shape[d]
		i /= int(shape[d])
	}
	return idx
}

func ravel(idx, shape []int64) int {
	o := 0
	for d := range shape {
		o = o*int(shape[d]) + int(idx[d])
	}
	return o
}

// sameElements reports the first element where got and want differ bit for bit.
func sameElements(t *testing.T, got, want *Tensor) {
	t.Helper()
	if got.dtype != want.dtype || !shapeEq(got.shape, want.shape) {
		t.Fatalf("got %v%v, want %v%v", got.dtype, got.shape, want.dtype, want.shape)
	}
	gb, wb := got.bytes(), want.bytes()
	es := got.dtype.Size()
	for i := 0; i < len(wb); i++ {
		if gb[i] != wb[i] {
			t.Fatalf("element %d (index %v): got %v, want %v", i/es, unravel(i/es, want.shape), got.f64At(i/es), want.f64At(i/es))
		}
	}
}

func runSingle(t *testing.T, n *onnxpb.NodeProto, feeds map[string]*Tensor, inits ...*onnxpb.TensorProto) *Tensor {
	t.Helper()
	var inputs []string
	for name := range feeds {
		inputs = append(inputs, name)
	}
	m := model(19, inputs, []string{"y"}, inits, n)
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	// Twice: the second run takes its buffers from the pool the first left.
	var y *Tensor
	for k := 0; k < 2; k++ {
		out, err := s.Run(feeds, nil)
		if err != nil {
			t.Fatal(err)
		}
		y = out["y"]
	}
	return y
}

var copyDTypes = []DType{Uint8, Float16, Float32, Int64}

func TestTransposeReference(t *testing.T) {
	cases := []struct {
		shape []int64
		perm  []int64
	}{
		{[]int64{17, 33}, []int64{1, 0}},
		{[]int64{1, 96, 56, 56}, []int64{0, 2, 3, 1}},
		{[]int64{1, 56, 56, 96}, []int64{0, 3, 1, 2}},
		{[]int64{2, 5, 3, 7}, []int64{0, 2, 3, 1}},
		{[]int64{3, 8, 7, 8, 7, 5}, []int64{0, 1, 3, 2, 4, 5}},
		{[]int64{4, 49, 3, 3, 8}, []int64{2, 0, 3, 1, 4}},
		{[]int64{3, 19, 6, 21}, []int64{0, 2, 1, 3}},
		{[]int64{2, 3, 4, 5}, []int64{3, 2, 1, 0}},
		{[]int64{5, 1, 31}, []int64{2, 1, 0}},
		{[]int64{300, 257}, []int64{1, 0}},
		{[]int64{3, 45, 70}, []int64{0, 2, 1}},
		{[]int64{2, 8, 3, 16}, []int64{1, 3, 0, 2}},
	}
	defer func(k bool) { transposeKernels = k }(transposeKernels)
	for _, kernels := range []bool{false, true} {
		for _, dt := range copyDTypes {
			for i, c := range cases {
				t.Run(fmt.Sprint("kernels=", kernels, dt, c.shape, c.perm), func(t *testing.T) {
					transposeKernels = kernels
					x := randTensor(rand.New(rand.NewSource(int64(i))), dt, c.shape...)
					oshape := make([]int64, len(c.shape))
					for d, p := range c.perm {
						oshape[d] = c.shape[p]
					}
					want := mustNew(dt, oshape)
					es := dt.Size()
					wb, xb := want.bytes(), x.bytes()
					for o := 0; o < want.Len(); o++ {
						oi := unravel(o, oshape)
						ii := make([]int64, len(oi))
						for d, p := range c.perm {
							ii[p] = oi[d]
						}
						copy(wb[o*es:(o+1)*es], xb[ravel(ii, c.shape)*es:])
					}
					got := runSingle(t, node("Transpose", []string{"x"}, []string{"y"}, attrInts("perm", c.perm...)), map[string]*Tensor{"x": x})
					sameElements(t, got, want)
				})
			}
		}
	}
}

func TestExpandReference(t *testing.T) {
	// [N,1] -> [N,M]: the source's contiguous dim is not the innermost.
	x := randTensor(rand.New(rand.NewSource(2)), Float32, 37, 1)
	shape := NewInt64([]int64{3}, []int64{2, 37, 41})
	want := mustNew(Float32, []int64{2, 37, 41})
	for o := range want.Float32s() {
		want.Float32s()[o] = x.Float32s()[(o/41)%37]
	}
	got := runSingle(t, node("Expand", []string{"x", "s"}, []string{"y"}), map[string]*Tensor{"x": x}, shape.Proto("s"))
	sameElements(t, got, want)
}

func TestSliceReference(t *testing.T) {
	cases := []struct {
		shape                     []int64
		starts, ends, axes, steps []int64
	}{
		{[]int64{1, 56, 56, 96}, []int64{0, 0}, []int64{49, 49}, []int64{1, 2}, []int64{1, 1}},
		{[]int64{7, 33, 5}, []int64{-1, 2}, []int64{-100, 30}, []int64{0, 1}, []int64{-2, 3}},
		{[]int64{64, 49, 96}, []int64{32}, []int64{64}, []int64{2}, []int64{1}},
		{[]int64{9, 17}, []int64{16}, []int64{0}, []int64{1}, []int64{-1}},
	}
	for _, dt := range copyDTypes {
		for i, c := range cases {
			t.Run(fmt.Sprint(dt, c.shape, c.starts, c.ends, c.steps), func(t *testing.T) {
				x := randTensor(rand.New(rand.NewSource(int64(i))), dt, c.shape...)
				// The source coordinates along each axis, straight from the definition.
				coords := make([][]int64, len(c.shape))
				for d, n := range c.shape {
					for k := int64(0); k < n; k++ {
						coords[d] = append(coords[d], k)
					}
				}
				for j, a := range c.axes {
					n := c.shape[a]
					st, en, step := c.starts[j], c.ends[j], c.steps[j]
					if st < 0 {
						st += n
					}
					if en < 0 {
						en += n
					}
					var l []int64
					for k := st; (step > 0 && k < en) || (step < 0 && k > en); k += step {
						if k >= 0 && k < n {
							l = append(l, k)
						}
					}
					coords[a] = l
				}
				oshape := make([]int64, len(c.shape))
				for d := range coords {
					oshape[d] = int64(len(coords[d]))
				}
				want := mustNew(dt, oshape)
				es := dt.Size()
				for o := 0; o < want.Len(); o++ {
					oi := unravel(o, oshape)
					for d := range oi {
						oi[d] = coords[d][oi[d]]
					}
					copy(want.bytes()[o*es:(o+1)*es], x.bytes()[ravel(oi, c.shape)*es:])
				}
				ints := func(name string, v []int64) *onnxpb.TensorProto {
					return NewInt64([]int64{int64(len(v))}, v).Proto(name)
				}
				got := runSingle(t, node("Slice", []string{"x", "st", "en", "ax", "sp"}, []string{"y"}), map[string]*Tensor{"x": x},
					ints("st", c.starts), ints("en", c.ends), ints("ax", c.axes), ints("sp", c.steps))
				sameElements(t, got, want)
			})
		}
	}
}

// padCoord maps output coordinate o of an axis of n elements padded by
// before to the source coordinate (-1: the constant), by bouncing off the
// ends for reflect rather than the implementation's modular formula.
func padCoord(o, before, n int64, mode string) int64 {
	i := o - before
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case "edge":
		if i < 0 {
			return 0
		}
		return n - 1
	case "reflect":
		if n == 1 {
			return 0
		}
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	case "wrap":
		return ((i % n) + n) % n
	}
	return -1
}

func TestPadReference(t *testing.T) {
	cases := []struct {
		shape []int64
		pads  []int64
		mode  string
	}{
		{[]int64{1, 64, 56, 56}, []int64{0, 0, 1, 1, 0, 0, 1, 1}, "constant"},
		{[]int64{1, 56, 56, 96}, []int64{0, 0, 0, 0, 0, 0, 0, 0}, "constant"},
		{[]int64{1, 53, 53, 9}, []int64{0, 0, 0, 0, 0, 3, 3, 0}, "constant"},
		{[]int64{2, 3, 17}, []int64{0, 1, 5, 0, 2, 7}, "reflect"},
		{[]int64{2, 3, 17}, []int64{1, 0, 4, 1, 0, 3}, "edge"},
		{[]int64{2, 5, 7}, []int64{0, 2, 9, 0, 3, 8}, "wrap"},
		{[]int64{3, 9, 20}, []int64{0, -2, 3, 0, -1, -4}, "constant"},
	}
	for _, dt := range copyDTypes {
		for i, c := range cases {
			t.Run(fmt.Sprint(dt, c.shape, c.pads, c.mode), func(t *testing.T) {
				x := randTensor(rand.New(rand.NewSource(int64(i))), dt, c.shape...)
				r := len(c.shape)
				value := mustNew(dt, nil)
				value.setF64(0, 3)
				oshape := make([]int64, r)
				for d := range oshape {
					oshape[d] = c.shape[d] + c.pads[d] + c.pads[r+d]
				}
				want := mustNew(dt, oshape)
				es := dt.Size()
				for o := 0; o < want.Len(); o++ {
					oi := unravel(o, oshape)
					src := value.bytes()
					ii := make([]int64, r)
					inside := true
					for d := range oi {
						ii[d] = padCoord(oi[d], c.pads[d], c.shape[d], c.mode)
						inside = inside && ii[d] >= 0
					}
					if inside {
						src = x.bytes()[ravel(ii, c.shape)*es:]
					}
					copy(want.bytes()[o*es:(o+1)*es], src[:es])
				}
				n := node("Pad", []string{"x", "p", "v"}, []string{"y"})
				n.Attribute = append(n.Attribute, &onnxpb.AttributeProto{Name: proto.String("mode"),
					Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(c.mode)})
				if c.mode == "wrap" {
					n.Input = n.Input[:2] // wrap takes no constant
				}
				got := runSingle(t, n, map[string]*Tensor{"x": x},
					NewInt64([]int64{int64(len(c.pads))}, c.pads).Proto("p"), value.Proto("v"))
				sameElements(t, got, want)
			})
		}
	}
}

func TestConcatReference(t *testing.T) {
	for _, dt := range copyDTypes {
		for axis := 0; axis < 3; axis++ {
			t.Run(fmt.Sprint(dt, axis), func(t *testing.T) {
				r := rand.New(rand.NewSource(int64(axis)))
				base := []int64{3, 17, 29}
				feeds := map[string]*Tensor{}
				var names []string
				var parts []*Tensor
				for k, extent := range []int64{1, 5, 0, 32} {
					sh := append([]int64{}, base...)
					sh[axis] = extent
					x := randTensor(r, dt, sh...)
					name := fmt.Sprint("x", k)
					feeds[name] = x
					names = append(names, name)
					parts = append(parts, x)
				}
				oshape := append([]int64{}, base...)
				oshape[axis] = 38
				want := mustNew(dt, oshape)
				es := dt.Size()
				for o := 0; o < want.Len(); o++ {
					oi := unravel(o, oshape)
					k, at := 0, oi[axis]
					for at >= parts[k].shape[axis] {
						at -= parts[k].shape[axis]
						k++
					}
					ii := append([]int64{}, oi...)
					ii[axis] = at
					copy(want.bytes()[o*es:(o+1)*es], parts[k].bytes()[ravel(ii, parts[k].shape)*es:])
				}
				m := model(17, names, []string{"y"}, nil, node("Concat", names, []string{"y"}, attrInt("axis", int64(axis))))
				got := runOne(t, m, feeds)["y"]
				sameElements(t, got, want)
			})
		}
	}
}
