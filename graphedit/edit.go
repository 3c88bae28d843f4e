package graphedit

import (
	"fmt"
	"math"
	"strconv"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// names returns the set of every name used in the main graph: values, node
// names and initializers. It is built once and kept up to date by the edit
// methods; direct edits of Proto should call ResetNames.
func (m *Model) names() map[string]bool {
	if m.used != nil {
		return m.used
	}
	used := map[string]bool{}
	g := m.Graph()
	for _, vi := range g.GetInput() {
		used[vi.GetName()] = true
	}
	for _, vi := range g.GetOutput() {
		used[vi.GetName()] = true
	}
	for _, vi := range g.GetValueInfo() {
		used[vi.GetName()] = true
	}
	for _, t := range g.GetInitializer() {
		used[t.GetName()] = true
	}
	for _, st := range g.GetSparseInitializer() {
		used[st.GetValues().GetName()] = true
	}
	for _, n := range g.GetNode() {
		used[n.GetName()] = true
		for _, s := range n.GetInput() {
			used[s] = true
		}
		for _, s := range n.GetOutput() {
			used[s] = true
		}
	}
	delete(used, "")
	m.used = used
	return used
}

// innerNames returns the set of names used inside the main graph's
// subgraphs (If/Loop/Scan bodies, at any depth). A new main-graph name must
// avoid them too: ONNX forbids a subgraph name that shadows an outer one.
func (m *Model) innerNames() map[string]bool {
	if m.inner != nil {
		return m.inner
	}
	inner := map[string]bool{}
	var walk func(g *onnxpb.GraphProto, top bool)
	walk = func(g *onnxpb.GraphProto, top bool) {
		if g == nil {
			return
		}
		if !top {
			for _, list := range [][]*onnxpb.ValueInfoProto{g.GetInput(), g.GetOutput(), g.GetValueInfo()} {
				for _, vi := range list {
					inner[vi.GetName()] = true
				}
			}
			for _, t := range g.GetInitializer() {
				inner[t.GetName()] = true
			}
			for _, st := range g.GetSparseInitializer() {
				inner[st.GetValues().GetName()] = true
			}
		}
		for _, n := range g.GetNode() {
			if !top {
				inner[n.GetName()] = true
				for _, s := range n.GetInput() {
					inner[s] = true
				}
				for _, s := range n.GetOutput() {
					inner[s] = true
				}
			}
			for _, a := range n.GetAttribute() {
				walk(a.GetG(), false)
				for _, sg := range a.GetGraphs() {
					walk(sg, false)
				}
			}
		}
	}
	walk(m.Graph(), true)
	delete(inner, "")
	m.inner = inner
	return inner
}

// ResetNames forgets the cached sets of used names, after Proto was edited
// directly.
func (m *Model) ResetNames() { m.used, m.inner = nil, nil }

// HasName reports whether name is already used by a value, node or
// initializer of the main graph.
func (m *Model) HasName(name string) bool { return m.names()[name] }

// UniqueName returns prefix if it is unused, else prefix_1, prefix_2, … — the
// first that no value, node or initializer of the main graph or of any of
// its subgraphs uses — and reserves it. It never returns "" (the empty name
// marks an omitted optional input): an empty prefix gives "_1", "_2", …
func (m *Model) UniqueName(prefix string) string {
	used, inner := m.names(), m.innerNames()
	name := prefix
	for i := 1; name == "" || used[name] || inner[name]; i++ {
		name = prefix + "_" + strconv.Itoa(i)
	}
	used[name] = true
	return name
}

// reserve marks names as used.
func (m *Model) reserve(names ...string) {
	used := m.names()
	for _, n := range names {
		if n != "" {
			used[n] = true
		}
	}
}

// AddInput inserts a graph input at position pos (clamped to the list; -1
// appends).
func (m *Model) AddInput(vi *onnxpb.ValueInfoProto, pos int) {
	g := m.Graph()
	g.Input = insertAt(g.Input, vi, pos)
	m.reserve(vi.GetName())
}

// AddOutput inserts a graph output at position pos (clamped; -1 appends).
func (m *Model) AddOutput(vi *onnxpb.ValueInfoProto, pos int) {
	g := m.Graph()
	g.Output = insertAt(g.Output, vi, pos)
	m.reserve(vi.GetName())
}

func insertAt[T any](list []T, v T, pos int) []T {
	if pos < 0 || pos > len(list) {
		pos = len(list)
	}
	list = append(list, v)
	copy(list[pos+1:], list[pos:])
	list[pos] = v
	return list
}

// AddInitializer appends t to the graph's initializers. Its name must not be
// an existing initializer or a node's output (take it from UniqueName); it
// may be a graph input's name, which the initializer then gives a default.
func (m *Model) AddInitializer(t *onnxpb.TensorProto) error {
	if t.GetName() == "" {
		return fmt.Errorf("initializer has no name")
	}
	if m.HasName(t.GetName()) {
		if m.Initializer(t.GetName()) != nil {
			return fmt.Errorf("initializer %q already exists", t.GetName())
		}
		if p := m.Producer(t.GetName()); p != nil {
			return fmt.Errorf("cannot add initializer %q: node %q (%s) already computes that value", t.GetName(), p.GetName(), p.GetOpType())
		}
	}
	g := m.Graph()
	g.Initializer = append(g.Initializer, t)
	m.reserve(t.GetName())
	return nil
}

// AddNode appends a node to the main graph and reserves its names.
func (m *Model) AddNode(n *onnxpb.NodeProto) {
	g := m.Graph()
	g.Node = append(g.Node, n)
	m.reserve(n.GetName())
	m.reserve(n.GetOutput()...)
}

// Float32Tensor builds a float32 TensorProto (raw little-endian data).
func Float32Tensor(name string, dims []int64, data []float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		putUint32(raw[4*i:], math.Float32bits(v))
	}
	return &onnxpb.TensorProto{Name: ptr(name), Dims: dims, DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), RawData: raw}
}

// Float64Tensor builds a float64 TensorProto (raw little-endian data).
func Float64Tensor(name string, dims []int64, data []float64) *onnxpb.TensorProto {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		putUint64(raw[8*i:], math.Float64bits(v))
	}
	return &onnxpb.TensorProto{Name: ptr(name), Dims: dims, DataType: ptr(int32(onnxpb.TensorProto_DOUBLE)), RawData: raw}
}

// Int64Tensor builds an int64 TensorProto (raw little-endian data).
func Int64Tensor(name string, dims []int64, data []int64) *onnxpb.TensorProto {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		putUint64(raw[8*i:], uint64(v))
	}
	return &onnxpb.TensorProto{Name: ptr(name), Dims: dims, DataType: ptr(int32(onnxpb.TensorProto_INT64)), RawData: raw}
}

func putUint32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func putUint64(b []byte, v uint64) {
	putUint32(b, uint32(v))
	putUint32(b[4:], uint32(v>>32))
}

// Metadata returns the value of metadata_props[key].
func (m *Model) Metadata(key string) (string, bool) {
	for _, kv := range m.Proto.GetMetadataProps() {
		if kv.GetKey() == key {
			return kv.GetValue(), true
		}
	}
	return "", false
}

// SetMetadata sets metadata_props[key] = value, replacing an existing entry.
func (m *Model) SetMetadata(key, value string) {
	for _, kv := range m.Proto.GetMetadataProps() {
		if kv.GetKey() == key {
			kv.Value = ptr(value)
			return
		}
	}
	m.Proto.MetadataProps = append(m.Proto.MetadataProps, &onnxpb.StringStringEntryProto{Key: ptr(key), Value: ptr(value)})
}

// AttrInt builds an INT attribute.
func AttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_INT.Enum(), I: ptr(v)}
}

// AttrInts builds an INTS attribute.
func AttrInts(name string, v []int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

// AttrFloat builds a FLOAT attribute.
func AttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: ptr(v)}
}

// AttrTensor builds a TENSOR attribute.
func AttrTensor(name string, t *onnxpb.TensorProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t}
}

// AttrString builds a STRING attribute.
func AttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}
