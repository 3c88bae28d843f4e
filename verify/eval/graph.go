package eval

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Session is a model prepared for evaluation: initializers decoded, nodes
// topologically sorted. It can be run many times and concurrently. Between
// runs it keeps the buffers of the intermediate values its last run freed,
// for the next run to reuse (see pool.go); drop the Session to release them.
type Session struct {
	opset   int64
	nodes   []*prepNode
	inits   map[string]*Tensor
	inputs  []string
	outputs []string
	// producer maps a value name to the index of the node producing it.
	producer map[string]int
	// inference runs training-mode Dropout as identity, see UseInferenceMode.
	inference bool
	// pool keeps the intermediate buffers of the last run for the next one.
	pool sessionPool
	// progressTo receives progress lines (see ReportProgress).
	progressTo io.Writer
	// isInit marks the buffers of the initializers and of the prepared
	// Constant values (constant across runs): never overwritten, never recycled.
	isInit map[unsafe.Pointer]bool
	// constBuf marks the prepared Constant values' buffers: Run returns copies
	// of them, so a caller changing an output cannot change the session.
	constBuf map[unsafe.Pointer]bool
	// slot numbers every value name the graph mentions: a run keeps its
	// values and use counts in slices indexed by slot, not in maps by name.
	slot     map[string]int
	slotName []string
	// slotInit is the initializer of each slot (nil if none), slotProducer
	// the index of the node producing it (-1 if none).
	slotInit     []*Tensor
	slotProducer []int
	// packs caches initializers packed for the GEMM.
	packs packCache
	// fusedAway holds the values fused node pairs no longer compute (see
	// fuse.go); a run asking for one runs unfused, a session prepared
	// from graph and baseDir without fusion on first need.
	fusedAway map[string]bool
	graph     *onnxpb.GraphProto
	baseDir   string
	unfused   struct {
		once sync.Once
		s    *Session
		err  error
	}
}

// UseInferenceMode makes Dropout the identity even where the graph asks for
// training mode, as ONNX Runtime's inference sessions do: a graph exported in
// training mode can then be evaluated deterministically. Without it such a
// Dropout (ratio > 0) is an error, since its mask is random. Call it before
// Run; BatchNormalization still computes what the graph says.
func (s *Session) UseInferenceMode() { s.inference = true }

type prepNode struct {
	proto *onnxpb.NodeProto
	attrs map[string]*onnxpb.AttributeProto
	def   *opDef
	label string
	// implicit lists the outer-scope values the node's subgraphs read: they
	// are inputs of the node for ordering, liveness and release.
	implicit []string
	// subs holds the prepared subgraphs by attribute name (If, Loop, Scan).
	subs map[string]*Session
	// in and out are the slots of the explicit inputs and of the outputs
	// (-1 for an empty name); uses lists each distinct input slot, explicit
	// or implicit, with how many times the node reads it.
	in, out []int
	uses    []slotUse
	// constVal is a Constant node's value, decoded once when the session is
	// prepared (nil if decoding failed: the run then reports the error).
	constVal *Tensor
	constRes []*Tensor
	// valueAttr is a ConstantOfShape node's value attribute, decoded once.
	valueAttr *Tensor
	// absorbed are the nodes a fused node took in (fuse.go: the LogSoftmax,
	// and the Add, of a fused GatherElements; the Relu and the Concat of a
	// fused BatchNormalization), prepared (attributes indexed) with the session.
	absorbed []*prepNode
	// group holds the members of an elementwise group node.
	group *elemGroup
}

// slotUse is one input value of a node and how many times the node reads it.
type slotUse struct{ slot, n int }

// slotOf returns the slot of value name, numbering it if it is new.
func (s *Session) slotOf(name string) int {
	if k, ok := s.slot[name]; ok {
		return k
	}
	k := len(s.slotName)
	s.slot[name] = k
	s.slotName = append(s.slotName, name)
	return k
}

// inputs returns the node's explicit inputs followed by its implicit ones.
func (pn *prepNode) inputs() []string {
	if len(pn.implicit) == 0 {
		return pn.proto.GetInput()
	}
	return append(append([]string{}, pn.proto.GetInput()...), pn.implicit...)
}

// DefaultOpset returns the default-domain opset a model imports (0 if none).
func DefaultOpset(model *onnxpb.ModelProto) int64 {
	for _, o := range model.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			return o.GetVersion()
		}
	}
	return 0
}

// NewSession prepares model for evaluation. baseDir is where external tensor
// data files are looked up (usually the model file's directory).
func NewSession(model *onnxpb.ModelProto, baseDir string) (*Session, error) {
	g := model.GetGraph()
	if g == nil {
		return nil, errors.New("model has no graph")
	}
	opset := DefaultOpset(model)
	if opset == 0 {
		return nil, errors.New("model imports no default-domain (ai.onnx) opset")
	}
	return newGraphSession(g, opset, baseDir)
}

// newGraphSession prepares one graph: a model's main graph or a subgraph
// (whose free values are fed from the enclosing scope at run time).
func newGraphSession(g *onnxpb.GraphProto, opset int64, baseDir string) (*Session, error) {
	return prepareGraph(g, opset, baseDir, true)
}

// prepareGraph is newGraphSession, with node fusion (fuse.go) or without.
func prepareGraph(g *onnxpb.GraphProto, opset int64, baseDir string, fuse bool) (*Session, error) {
	s := &Session{opset: opset, inits: map[string]*Tensor{}, producer: map[string]int{}, isInit: map[unsafe.Pointer]bool{},
		constBuf: map[unsafe.Pointer]bool{}, slot: map[string]int{}, graph: g, baseDir: baseDir}
	for _, tp := range g.GetInitializer() {
		t, err := FromProto(tp, baseDir)
		if err != nil {
			return nil, fmt.Errorf("initializer: %w", err)
		}
		s.inits[tp.GetName()] = t
		if key := bufKey(t); key != nil {
			s.isInit[key] = true
		}
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, errors.New("sparse initializers are not supported")
	}
	for _, vi := range g.GetInput() {
		if _, ok := s.inits[vi.GetName()]; !ok {
			s.inputs = append(s.inputs, vi.GetName())
		}
	}
	for _, vi := range g.GetOutput() {
		s.outputs = append(s.outputs, vi.GetName())
	}
	// Topological sort (Kahn), stable with respect to the file order.
	nodes := g.GetNode()
	prod := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if j, dup := prod[o]; dup {
				return nil, fmt.Errorf("value %q is produced by two nodes (%d and %d)", o, j, i)
			}
			prod[o] = i
		}
	}
	implicit := make([][]string, len(nodes))
	for i, n := range nodes {
		implicit[i] = subgraphFreeValues(n)
	}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		seen := map[int]bool{}
		for _, in := range append(append([]string{}, n.GetInput()...), implicit[i]...) {
			if j, ok := prod[in]; ok && in != "" && !seen[j] {
				if _, isInit := s.inits[in]; isInit {
					continue
				}
				seen[j] = true
				indeg[i]++
				users[j] = append(users[j], i)
			}
		}
	}
	var order []int
	var ready []int
	for i := range nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		return nil, errors.New("graph has a cycle")
	}
	var replace map[int]*fusion
	var drop map[int]bool
	if fuse {
		replace, drop = planFusions(nodes, implicit, s.outputs, opset)
	}
	for _, i := range order {
		if drop[i] {
			continue
		}
		n := nodes[i]
		var fz *fusion
		if fz = replace[i]; fz != nil {
			n = fz.fused
		}
		pn := &prepNode{proto: n, attrs: map[string]*onnxpb.AttributeProto{}, implicit: implicit[i]}
		pn.label = fmt.Sprintf("node %q (%s)", n.GetName(), n.GetOpType())
		for _, a := range n.GetAttribute() {
			if a.GetRefAttrName() != "" {
				return nil, fmt.Errorf("%s: attribute %q references a function attribute", pn.label, a.GetName())
			}
			pn.attrs[a.GetName()] = a
			if sg := a.GetG(); sg != nil {
				sub, err := newGraphSession(sg, opset, baseDir)
				if err != nil {
					return nil, fmt.Errorf("%s: subgraph %q: %w", pn.label, a.GetName(), err)
				}
				if pn.subs == nil {
					pn.subs = map[string]*Session{}
				}
				pn.subs[a.GetName()] = sub
			}
		}
		if d := n.GetDomain(); d == "" || d == "ai.onnx" {
			pn.def = registry[n.GetOpType()]
		}
		if fz != nil {
			pn.def = fz.def
			for _, a := range fz.absorbed {
				pn.absorbed = append(pn.absorbed, &prepNode{proto: a, attrs: attrMap(a), def: registry[a.GetOpType()],
					label: fmt.Sprintf("node %q (%s)", a.GetName(), a.GetOpType())})
			}
			if s.fusedAway == nil {
				s.fusedAway = map[string]bool{}
			}
			for _, v := range fz.internal {
				s.fusedAway[v] = true
			}
		}
		for _, o := range n.GetOutput() {
			if o != "" {
				s.producer[o] = len(s.nodes)
			}
		}
		s.nodes = append(s.nodes, pn)
	}
	if fuse {
		var internal []string
		s.nodes, internal = groupElementwise(s.nodes, s.outputs)
		for _, v := range internal {
			if s.fusedAway == nil {
				s.fusedAway = map[string]bool{}
			}
			s.fusedAway[v] = true
		}
		clear(s.producer)
		for i, pn := range s.nodes {
			if pn.group != nil {
				pn.label = fmt.Sprintf("elementwise group from node %q", pn.group.members[0].proto.GetName())
			}
			for _, o := range pn.proto.GetOutput() {
				if o != "" {
					s.producer[o] = i
				}
			}
		}
	}
	s.prepareSlots()
	return s, nil
}

// prepareSlots numbers the values and records, per node, the slots it reads
// and writes, and decodes the Constant nodes' values once.
func (s *Session) prepareSlots() {
	for name := range s.inits {
		s.slotOf(name)
	}
	for _, n := range s.inputs {
		s.slotOf(n)
	}
	for _, pn := range s.nodes {
		pn.in = make([]int, len(pn.proto.GetInput()))
		for i, name := range pn.proto.GetInput() {
			pn.in[i] = -1
			if name != "" {
				pn.in[i] = s.slotOf(name)
			}
		}
		for _, name := range pn.inputs() {
			if name == "" {
				continue
			}
			k, found := s.slotOf(name), false
			for j := range pn.uses {
				if pn.uses[j].slot == k {
					pn.uses[j].n++
					found = true
				}
			}
			if !found {
				pn.uses = append(pn.uses, slotUse{k, 1})
			}
		}
		pn.out = make([]int, len(pn.proto.GetOutput()))
		for i, name := range pn.proto.GetOutput() {
			pn.out[i] = -1
			if name != "" {
				pn.out[i] = s.slotOf(name)
			}
		}
	}
	for _, n := range s.outputs {
		s.slotOf(n)
	}
	s.slotInit = make([]*Tensor, len(s.slotName))
	for name, t := range s.inits {
		s.slotInit[s.slot[name]] = t
	}
	s.slotProducer = make([]int, len(s.slotName))
	for i := range s.slotProducer {
		s.slotProducer[i] = -1
	}
	for name, p := range s.producer {
		s.slotProducer[s.slot[name]] = p
	}
	for _, pn := range s.nodes {
		if pn.def != nil && pn.proto.GetOpType() == "ConstantOfShape" && pn.attrs["value"] != nil {
			if t, err := FromProto(pn.attrs["value"].GetT(), ""); err == nil {
				pn.valueAttr = t // read only, shared by the runs
			}
		}
		if pn.def == nil || pn.proto.GetOpType() != "Constant" || len(pn.out) != 1 {
			continue
		}
		res, err := callOp(pn.def, &opCtx{node: pn.proto, opset: s.opset, attrs: pn.attrs, nOut: 1, want: []bool{true}, prep: pn, sess: s}, nil)
		if err != nil || len(res) != 1 || res[0] == nil {
			continue
		}
		pn.constVal, pn.constRes = res[0], res
		if key := bufKey(res[0]); key != nil {
			s.isInit[key] = true
			s.constBuf[key] = true
		}
	}
}

// Inputs returns the names of the graph inputs that are not initializers.
func (s *Session) Inputs() []string { return append([]string{}, s.inputs...) }

// Outputs returns the names of the graph outputs.
func (s *Session) Outputs() []string { return append([]string{}, s.outputs...) }

// Opset returns the default-domain opset the model imports.
func (s *Session) Opset() int64 { return s.opset }

// Run evaluates model once. See Session.Run.
func Run(model *onnxpb.ModelProto, baseDir string, feeds map[string]*Tensor, outputs []string) (map[string]*Tensor, error) {
	s, err := NewSession(model, baseDir)
	if err != nil {
		return nil, err
	}
	return s.Run(feeds, outputs)
}

type runState struct {
	sess *Session
	// free holds recycled buffers (see pool.go), owned the buffers this run
	// allocated and may recycle, fresh those it recycled.
	free  bufPool
	owned map[unsafe.Pointer]*Tensor
	fresh map[unsafe.Pointer]bool
	// vals and uses are indexed by slot: the live value (nil if none) and
	// how many reads of it are still to come (outputs are pinned).
	vals []*Tensor
	uses []int
	// live lists the slots holding a node output or a feed (not the
	// initializers), in no order; livePos is each slot's index in it (-1 if
	// absent). recycle checks these values for overlap.
	live    []int
	livePos []int
	bufLive map[unsafe.Pointer]int
	// protect marks the feeds' buffers (the session's isInit the initializers').
	protect map[unsafe.Pointer]bool
	// scratch slices reused from node to node.
	in   []*Tensor
	dead []bool
	want []bool
	keys []bufCount
	ctx  opCtx
}

// bufCount counts the dying values holding one buffer.
type bufCount struct {
	key unsafe.Pointer
	n   int
}

func bufKey(t *Tensor) unsafe.Pointer {
	b := t.bytes()
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// protected reports whether the buffer at key must never be overwritten or
// recycled: a feed's, an initializer's or a prepared Constant's.
func (rs *runState) protected(key unsafe.Pointer) bool {
	return rs.protect[key] || rs.sess.isInit[key]
}

// setLive stores t as the value of slot k and tracks it as live.
func (rs *runState) setLive(k int, t *Tensor) {
	rs.vals[k] = t
	if rs.livePos[k] < 0 {
		rs.livePos[k] = len(rs.live)
		rs.live = append(rs.live, k)
	}
}

// drop forgets the value of slot k.
func (rs *runState) drop(k int) {
	rs.vals[k] = nil
	if p := rs.livePos[k]; p >= 0 {
		last := rs.live[len(rs.live)-1]
		rs.live[p] = last
		rs.livePos[last] = p
		rs.live = rs.live[:len(rs.live)-1]
		rs.livePos[k] = -1
	}
}

// Run computes the requested outputs (all graph outputs if outputs is empty)
// from feeds. Only the nodes needed for those outputs run; intermediate values
// are released after their last consumer. Feeds are never modified.
func (s *Session) Run(feeds map[string]*Tensor, outputs []string) (map[string]*Tensor, error) {
	if len(outputs) == 0 {
		outputs = s.outputs
	}
	if s.needsUnfused(feeds, outputs) {
		u, err := s.unfusedSession()
		if err != nil {
			return nil, err
		}
		return u.Run(feeds, outputs)
	}
	// Slots: the session's, plus any requested output the graph does not
	// mention (a feed passed through, or an error below).
	nv := len(s.slotName)
	var extra map[string]int
	outSlot := make([]int, len(outputs))
	for i, o := range outputs {
		k, ok := s.slot[o]
		if !ok {
			if extra == nil {
				extra = map[string]int{}
			}
			if k, ok = extra[o]; !ok {
				k = nv + len(extra)
				extra[o] = k
			}
		}
		outSlot[i] = k
	}
	nv += len(extra)
	slotName := func(k int) string {
		if k < len(s.slotName) {
			return s.slotName[k]
		}
		for n, e := range extra {
			if e == k {
				return n
			}
		}
		return ""
	}
	fed := make([]bool, nv)
	for name := range feeds {
		if k, ok := s.slot[name]; ok {
			fed[k] = true
		} else if k, ok := extra[name]; ok {
			fed[k] = true
		}
	}
	// Which nodes are needed?
	need := make([]bool, len(s.nodes))
	seen := make([]bool, nv)
	var missing []string
	var stack []int
	for _, k := range outSlot {
		if !seen[k] {
			seen[k] = true
			stack = append(stack, k)
		}
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if fed[v] {
			continue
		}
		p := -1
		if v < len(s.slotName) {
			if s.slotInit[v] != nil {
				continue
			}
			p = s.slotProducer[v]
		}
		if p < 0 {
			missing = append(missing, slotName(v))
			continue
		}
		if need[p] {
			continue
		}
		need[p] = true
		for _, u := range s.nodes[p].uses {
			if !seen[u.slot] {
				seen[u.slot] = true
				stack = append(stack, u.slot)
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		var inputs, other []string
		isInput := map[string]bool{}
		for _, n := range s.inputs {
			isInput[n] = true
		}
		for _, m := range missing {
			if isInput[m] {
				inputs = append(inputs, m)
			} else {
				other = append(other, m)
			}
		}
		if len(inputs) > 0 {
			return nil, fmt.Errorf("missing feed for graph input %s", quoteList(inputs))
		}
		return nil, fmt.Errorf("value %s is not a graph input, initializer or node output", quoteList(other))
	}
	rs := &runState{sess: s, vals: make([]*Tensor, nv), uses: make([]int, nv), livePos: make([]int, nv),
		bufLive: map[unsafe.Pointer]int{}, protect: make(map[unsafe.Pointer]bool, len(feeds)),
		free: s.pool.get(), owned: map[unsafe.Pointer]*Tensor{}, fresh: map[unsafe.Pointer]bool{}}
	defer func() { s.pool.keep(rs.free, rs.fresh) }()
	for i := range rs.livePos {
		rs.livePos[i] = -1
	}
	for k, t := range s.slotInit {
		if t != nil && !fed[k] {
			rs.vals[k] = t
		}
	}
	for name, t := range feeds {
		if t == nil {
			return nil, fmt.Errorf("feed %q is nil", name)
		}
		rs.protect[bufKey(t)] = true
		k, ok := s.slot[name]
		if !ok {
			if k, ok = extra[name]; !ok {
				continue
			}
		}
		rs.setLive(k, t)
	}
	const pinned = 1 << 30
	if bad := s.unsupportedNeeded(need); bad != nil {
		return nil, bad
	}
	for i, pn := range s.nodes {
		if !need[i] {
			continue
		}
		for _, u := range pn.uses {
			rs.uses[u.slot] += u.n
		}
	}
	for _, k := range outSlot {
		rs.uses[k] += pinned
	}
	var prog *progress
	if s.progressTo != nil {
		prog = &progress{w: s.progressTo, start: time.Now()}
		for _, n := range need {
			if n {
				prog.total++
			}
		}
	}
	done := 0
	for i, pn := range s.nodes {
		if !need[i] {
			continue
		}
		if err := s.runNode(pn, rs); err != nil {
			if prog != nil && prog.shown {
				fmt.Fprintln(prog.w)
			}
			return nil, err
		}
		done++
		prog.step(done)
	}
	prog.finish()
	res := make(map[string]*Tensor, len(outputs))
	for i, o := range outputs {
		t := rs.vals[outSlot[i]]
		if t == nil {
			return nil, fmt.Errorf("output %q was not computed (optional output left empty?)", o)
		}
		if s.constBuf[bufKey(t)] {
			t = t.Clone() // the session keeps the original for later runs
		}
		res[o] = t
	}
	return res, nil
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func (s *Session) runNode(pn *prepNode, rs *runState) (err error) {
	n := pn.proto
	in := growTensors(&rs.in, len(pn.in))
	for i, k := range pn.in {
		if k < 0 {
			continue
		}
		t := rs.vals[k]
		if t == nil {
			return fmt.Errorf("%s: input %q has no value", pn.label, n.GetInput()[i])
		}
		in[i] = t
	}
	// In-place reuse: an input's buffer is dead if every live value holding
	// it dies here (keys counts the dying values per buffer).
	keys := rs.keys[:0]
	for _, u := range pn.uses {
		if rs.uses[u.slot] != u.n || rs.vals[u.slot] == nil {
			continue
		}
		key := bufKey(rs.vals[u.slot])
		if key == nil {
			continue
		}
		found := false
		for j := range keys {
			if keys[j].key == key {
				keys[j].n++
				found = true
				break
			}
		}
		if !found {
			keys = append(keys, bufCount{key, 1})
		}
	}
	rs.keys = keys
	dead := growBools(&rs.dead, len(in))
	for i, t := range in {
		if t == nil || len(keys) == 0 {
			continue
		}
		key := bufKey(t)
		if key == nil || rs.protected(key) {
			continue
		}
		for _, kc := range keys {
			if kc.key == key {
				dead[i] = kc.n == rs.bufLive[key]
				break
			}
		}
	}
	want := growBools(&rs.want, len(pn.out))
	for i, k := range pn.out {
		want[i] = k >= 0 && rs.uses[k] > 0
	}
	var res []*Tensor
	if pn.constVal != nil {
		res = pn.constRes
	} else {
		// One opCtx per run, reset per node: ops do not keep it past their return.
		c := &rs.ctx
		*c = opCtx{node: n, opset: s.opset, attrs: pn.attrs, nOut: len(pn.out), want: want, dead: dead, run: rs, inference: s.inference, prep: pn, sess: s}
		if res, err = callOp(pn.def, c, in); err != nil {
			return fmt.Errorf("%s: %w", pn.label, err)
		}
	}
	// Release inputs after their last use.
	released := keys[:0] // reuses the scratch: keys is not needed any more
	for _, u := range pn.uses {
		rs.uses[u.slot] -= u.n
		if rs.uses[u.slot] <= 0 {
			if t := rs.vals[u.slot]; t != nil {
				if key := bufKey(t); key != nil {
					if rs.bufLive[key]--; rs.bufLive[key] <= 0 {
						delete(rs.bufLive, key)
					}
					released = append(released, bufCount{key: key})
				}
			}
			rs.drop(u.slot)
			rs.uses[u.slot] = 0
		}
	}
	for i, k := range pn.out {
		if k < 0 || rs.uses[k] <= 0 {
			if i < len(res) && res[i] != nil {
				if key := bufKey(res[i]); key != nil {
					released = append(released, bufCount{key: key}) // computed but not needed
				}
			}
			continue
		}
		if i >= len(res) || res[i] == nil {
			return fmt.Errorf("%s: output %d (%q) was not produced", pn.label, i, n.GetOutput()[i])
		}
		rs.setLive(k, res[i])
		if key := bufKey(res[i]); key != nil {
			rs.bufLive[key]++
		}
	}
	for _, r := range released {
		rs.recycle(r.key)
	}
	rs.keys = released[:0]
	return nil
}

// growTensors returns (*buf)[:n] cleared, growing *buf if needed.
func growTensors(buf *[]*Tensor, n int) []*Tensor {
	if cap(*buf) < n {
		*buf = make([]*Tensor, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}

// growBools returns (*buf)[:n] cleared, growing *buf if needed.
func growBools(buf *[]bool, n int) []bool {
	if cap(*buf) < n {
		*buf = make([]bool, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}

func callOp(def *opDef, c *opCtx, in []*Tensor) (res []*Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			if ae, ok := r.(allocError); ok {
				err = ae.err // a size from the model, not a bug
				return
			}
			err = fmt.Errorf("internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if !def.half {
		return def.fn(c, in)
	}
	half := DType(0)
	conv := make([]*Tensor, len(in))
	for i, t := range in {
		conv[i] = t
		if t != nil && (t.dtype == Float16 || t.dtype == BFloat16) {
			half = t.dtype
			conv[i] = castTensor(t, Float32)
		}
	}
	if half == 0 {
		return def.fn(c, in)
	}
	c.dead = make([]bool, len(in)) // converted copies; nothing to reuse
	res, err = def.fn(c, conv)
	if err != nil {
		return nil, err
	}
	for i, t := range res {
		if t != nil && t.dtype == Float32 {
			res[i] = castTensor(t, half)
		}
	}
	return res, nil
}

// subgraphFreeValues lists, sorted, the values a node's subgraphs (at any
// depth) read from enclosing scopes.
func subgraphFreeValues(n *onnxpb.NodeProto) []string {
	free := map[string]bool{}
	for _, a := range n.GetAttribute() {
		if g := a.GetG(); g != nil {
			for _, v := range graphFreeValues(g) {
				free[v] = true
			}
		}
		for _, g := range a.GetGraphs() {
			for _, v := range graphFreeValues(g) {
				free[v] = true
			}
		}
	}
	out := make([]string, 0, len(free))
	for v := range free {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// graphFreeValues lists the values g's nodes read that g does not define.
func graphFreeValues(g *onnxpb.GraphProto) []string {
	defined := map[string]bool{"": true}
	for _, t := range g.GetInitializer() {
		defined[t.GetName()] = true
	}
	for _, vi := range g.GetInput() {
		defined[vi.GetName()] = true
	}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			defined[o] = true
		}
	}
	var free []string
	seen := map[string]bool{}
	use := func(v string) {
		if !defined[v] && !seen[v] {
			seen[v] = true
			free = append(free, v)
		}
	}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			use(in)
		}
		for _, v := range subgraphFreeValues(n) {
			use(v)
		}
	}
	for _, o := range g.GetOutput() {
		use(o.GetName())
	}
	return free
}

// subgraph returns the prepared subgraph of attribute name.
func (c *opCtx) subgraph(name string) (*Session, error) {
	if c.prep == nil || c.prep.subs[name] == nil {
		return nil, fmt.Errorf("attribute %q is not a graph", name)
	}
	return c.prep.subs[name], nil
}

// runSubgraph runs sub with its free values taken from the enclosing run
// and extra feeds (a Loop body's inputs, say) on top.
func (c *opCtx) runSubgraph(sub *Session, extra map[string]*Tensor) ([]*Tensor, error) {
	feeds := map[string]*Tensor{}
	for _, v := range c.prep.implicit {
		if t := c.run.vals[c.sess.slot[v]]; t != nil {
			feeds[v] = t
		}
	}
	for k, v := range extra {
		feeds[k] = v
	}
	sub.inference = c.inference
	res, err := sub.Run(feeds, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*Tensor, len(sub.outputs))
	for i, o := range sub.outputs {
		out[i] = res[o]
	}
	return out, nil
}

// unsupportedNeeded names every unsupported op among the needed nodes.
func (s *Session) unsupportedNeeded(need []bool) error {
	found := map[string]*UnsupportedOp{}
	var order []string
	for i, pn := range s.nodes {
		if !need[i] || pn.def != nil {
			continue
		}
		k := pn.proto.GetDomain() + "\x00" + pn.proto.GetOpType()
		if found[k] == nil {
			found[k] = &UnsupportedOp{Domain: pn.proto.GetDomain(), OpType: pn.proto.GetOpType(), First: pn.proto.GetName()}
			order = append(order, k)
		}
		found[k].Nodes++
	}
	if len(order) == 0 {
		return nil
	}
	sort.Strings(order)
	e := &UnsupportedError{}
	for _, k := range order {
		e.Ops = append(e.Ops, *found[k])
	}
	return e
}

// needsUnfused reports whether a run must use the unfused graph: it asks
// for a value a fused node no longer computes, or feeds a value a fused node
// computes (cutting the graph there, as a check that feeds the logits of a
// model's loss does).
func (s *Session) needsUnfused(feeds map[string]*Tensor, outputs []string) bool {
	if s.fusedAway == nil {
		return false
	}
	for _, o := range outputs {
		if s.fusedAway[o] {
			return true
		}
	}
	for name := range feeds {
		if s.fusedAway[name] {
			return true
		}
		if p, ok := s.producer[name]; ok && (s.nodes[p].group != nil || s.nodes[p].absorbed != nil) {
			return true
		}
	}
	return false
}

// unfusedSession returns the session's graph prepared without node fusion,
// with the same settings, for runs that ask for a fused-away value.
func (s *Session) unfusedSession() (*Session, error) {
	s.unfused.once.Do(func() {
		s.unfused.s, s.unfused.err = prepareGraph(s.graph, s.opset, s.baseDir, false)
		if u := s.unfused.s; u != nil {
			u.inference, u.progressTo = s.inference, s.progressTo
		}
	})
	return s.unfused.s, s.unfused.err
}
