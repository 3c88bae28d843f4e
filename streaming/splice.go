package streaming

import (
	"fmt"
	"io"
	"os"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// piece is one part of the output: bytes copied from the input file
// ([start, end)) or literal bytes.
type piece struct {
	start, end int64
	lit        []byte
}

func (p piece) size() int64 {
	if p.lit != nil {
		return int64(len(p.lit))
	}
	return p.end - p.start
}

// pieces is the output as a list of pieces, with adjacent copies merged.
type pieces []piece

func (ps *pieces) copyRange(start, end int64) {
	if end <= start {
		return
	}
	if n := len(*ps); n > 0 && (*ps)[n-1].lit == nil && (*ps)[n-1].end == start {
		(*ps)[n-1].end = end
		return
	}
	*ps = append(*ps, piece{start: start, end: end})
}

func (ps *pieces) literal(b []byte) {
	if len(b) == 0 {
		return
	}
	if n := len(*ps); n > 0 && (*ps)[n-1].lit != nil {
		(*ps)[n-1].lit = append((*ps)[n-1].lit, b...)
		return
	}
	*ps = append(*ps, piece{lit: slices.Clone(b)})
}

func (ps pieces) size() int64 {
	var n int64
	for _, p := range ps {
		n += p.size()
	}
	return n
}

// copied returns how many bytes come straight from the input.
func (ps pieces) copied() int64 {
	var n int64
	for _, p := range ps {
		if p.lit == nil {
			n += p.end - p.start
		}
	}
	return n
}

// write copies the pieces to w, the copied ones from f. f is positioned
// with Seek and copied with io.CopyN so that, from file to file, Linux
// copies in the kernel (copy_file_range).
func (ps pieces) write(w io.Writer, f *os.File) error {
	for _, p := range ps {
		if p.lit != nil {
			if _, err := w.Write(p.lit); err != nil {
				return err
			}
			continue
		}
		if _, err := f.Seek(p.start, io.SeekStart); err != nil {
			return fmt.Errorf("seeking in %s: %w", f.Name(), err)
		}
		if n, err := io.CopyN(w, f, p.end-p.start); err != nil {
			if err == io.EOF {
				return fmt.Errorf("%s ended at byte %d while being copied: the file changed during inject", f.Name(), p.start+n)
			}
			return fmt.Errorf("copying %s: %w", f.Name(), err)
		}
	}
	return nil
}

// snapshot remembers a message as it was before inject edited it: a deep
// copy, and the identity of every element of its repeated message fields.
type snapshot struct {
	live  protoreflect.Message
	clone proto.Message
	elems map[protoreflect.FieldNumber][]proto.Message
}

func takeSnapshot(m proto.Message) *snapshot {
	s := &snapshot{live: m.ProtoReflect(), clone: proto.Clone(m), elems: map[protoreflect.FieldNumber][]proto.Message{}}
	for _, fd := range listFields(s.live.Descriptor()) {
		l := s.live.Get(fd).List()
		for i := 0; i < l.Len(); i++ {
			s.elems[fd.Number()] = append(s.elems[fd.Number()], l.Get(i).Message().Interface())
		}
	}
	return s
}

// listFields returns the repeated message fields of a message type.
func listFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		if fd := fds.Get(i); fd.IsList() && fd.Kind() == protoreflect.MessageKind {
			out = append(out, fd)
		}
	}
	return out
}

// errUnspliceable says why the edit cannot be spliced into the input's
// bytes; the caller then takes the in-memory path.
type errUnspliceable struct{ reason string }

func (e errUnspliceable) Error() string { return e.reason }

func unspliceable(format string, args ...any) error {
	return errUnspliceable{fmt.Sprintf(format, args...)}
}

// equalOutside reports whether a and b are equal apart from their repeated
// message fields and the field skip.
func equalOutside(a, b proto.Message, skip protoreflect.FieldNumber) bool {
	ca, cb := proto.Clone(a), proto.Clone(b)
	for _, c := range []protoreflect.Message{ca.ProtoReflect(), cb.ProtoReflect()} {
		for _, fd := range listFields(c.Descriptor()) {
			c.Clear(fd)
		}
		if fd := c.Descriptor().Fields().ByNumber(skip); fd != nil {
			c.Clear(fd)
		}
	}
	return proto.Equal(ca, cb)
}

// encodeField appends field num holding message m.
func encodeField(out []byte, num protowire.Number, m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding a new field: %w", err)
	}
	out = protowire.AppendTag(out, num, protowire.BytesType)
	return protowire.AppendBytes(out, b), nil
}

// listPlan is how one repeated message field changed: which original
// elements stay (and whether they must be re-encoded) and where the new ones
// go.
type listPlan struct {
	kept   map[int]proto.Message // original index → element to re-encode; nil value: copy bytes
	before map[int][]proto.Message
	tail   []proto.Message
}

// planLevel lays out the new encoding of one message (the model or its main
// graph) whose fields lie in the input as fields. The fields of number nest
// are emitted by nested instead of copied.
func planLevel(fields []field, snap *snapshot, nest protowire.Number, nested func(*pieces) error) (pieces, error) {
	live := snap.live
	if !equalOutside(live.Interface(), snap.clone, protoreflect.FieldNumber(nest)) {
		return nil, unspliceable("inject changed a non-list field of %s", live.Descriptor().Name())
	}
	plans := map[protowire.Number]*listPlan{}
	origList := func(fd protoreflect.FieldDescriptor) protoreflect.List {
		return snap.clone.ProtoReflect().Get(fd).List()
	}
	for _, fd := range listFields(live.Descriptor()) {
		num := protowire.Number(fd.Number())
		orig := snap.elems[fd.Number()]
		index := make(map[proto.Message]int, len(orig))
		for i, e := range orig {
			index[e] = i
		}
		var stripped []bool
		for _, f := range fields {
			if f.num == num && f.typ == protowire.BytesType {
				stripped = append(stripped, f.stripped)
			}
		}
		if len(stripped) != len(orig) {
			return nil, unspliceable("field %s: %d entries in the file, %d decoded", fd.Name(), len(stripped), len(orig))
		}
		p := &listPlan{kept: map[int]proto.Message{}, before: map[int][]proto.Message{}}
		var pending []proto.Message
		last := -1
		l := live.Get(fd).List()
		for j := 0; j < l.Len(); j++ {
			e := l.Get(j).Message().Interface()
			i, ok := index[e]
			if !ok {
				pending = append(pending, e)
				continue
			}
			if i <= last {
				return nil, unspliceable("inject reordered %s", fd.Name())
			}
			last = i
			var reencode proto.Message
			if !proto.Equal(e, origList(fd).Get(i).Message().Interface()) {
				if stripped[i] {
					return nil, unspliceable("inject changed %s %d, which holds tensor data", fd.Name(), i)
				}
				reencode = e
			}
			p.kept[i] = reencode
			p.before[i], pending = pending, nil
		}
		p.tail = pending
		// A new element equal to a removed one that had tensor data would
		// have lost its data in the skeleton.
		for i := range orig {
			if _, ok := p.kept[i]; ok || !stripped[i] {
				continue
			}
			for j := 0; j < l.Len(); j++ {
				if proto.Equal(l.Get(j).Message().Interface(), origList(fd).Get(i).Message().Interface()) {
					return nil, unspliceable("inject moved %s %d, which holds tensor data", fd.Name(), i)
				}
			}
		}
		plans[num] = p
	}

	// Where the tail of each list goes: after its last entry in the file,
	// else before the first field with a higher number, else at the end.
	tailAfter := map[int][]protowire.Number{}
	tailBefore := map[int][]protowire.Number{}
	var tailEnd []protowire.Number
	nums := make([]protowire.Number, 0, len(plans))
	for num := range plans {
		nums = append(nums, num)
	}
	slices.Sort(nums)
	for _, num := range nums {
		if len(plans[num].tail) == 0 {
			continue
		}
		lastAt, firstHigher := -1, -1
		for i, f := range fields {
			if f.num == num && f.typ == protowire.BytesType {
				lastAt = i
			}
			if f.num > num && firstHigher < 0 {
				firstHigher = i
			}
		}
		switch {
		case lastAt >= 0:
			tailAfter[lastAt] = append(tailAfter[lastAt], num)
		case firstHigher >= 0:
			tailBefore[firstHigher] = append(tailBefore[firstHigher], num)
		default:
			tailEnd = append(tailEnd, num)
		}
	}

	var out pieces
	emit := func(num protowire.Number, ms []proto.Message) error {
		var b []byte
		for _, m := range ms {
			var err error
			if b, err = encodeField(b, num, m); err != nil {
				return err
			}
		}
		out.literal(b)
		return nil
	}
	emitTails := func(list []protowire.Number) error {
		for _, num := range list {
			if err := emit(num, plans[num].tail); err != nil {
				return err
			}
		}
		return nil
	}
	counts := map[protowire.Number]int{}
	for i, f := range fields {
		if err := emitTails(tailBefore[i]); err != nil {
			return nil, err
		}
		p := plans[f.num]
		switch {
		case p != nil && f.typ == protowire.BytesType:
			idx := counts[f.num]
			counts[f.num]++
			re, kept := p.kept[idx]
			if !kept {
				break // removed by inject
			}
			if err := emit(f.num, p.before[idx]); err != nil {
				return nil, err
			}
			if re != nil {
				if err := emit(f.num, []proto.Message{re}); err != nil {
					return nil, err
				}
			} else {
				out.copyRange(f.start, f.end)
			}
		case f.num == nest && f.typ == protowire.BytesType:
			if err := nested(&out); err != nil {
				return nil, err
			}
		default:
			out.copyRange(f.start, f.end)
		}
		if err := emitTails(tailAfter[i]); err != nil {
			return nil, err
		}
	}
	if err := emitTails(tailEnd); err != nil {
		return nil, err
	}
	return out, nil
}
