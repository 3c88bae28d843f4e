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

// listPlan is how one repeated message field is written: its first keep
// elements stay where they are in the input, every later one is removed from
// its place, and tail is the rest of the new list, written after the
// message's last field.
type listPlan struct {
	keep int
	tail []tailElem
}

// tailElem is one element of a list's tail: the input's bytes of the
// original element of index orig (the field fields[orig] of the message),
// or, when orig < 0, the encoding of m (a new or changed element).
type tailElem struct {
	orig int
	m    proto.Message
}

// planLevel lays out the new encoding of one message (the model or its main
// graph) whose fields lie in the input as fields. The fields of number nest
// are emitted by nested instead of copied.
//
// Every field stays in place except the elements of repeated message fields
// from the first one inject added, removed, changed or moved on: those
// lists' rests (new elements encoded, unchanged original ones copied from
// the input) follow the message's last field, in field-number order.
// Protobuf concatenates the occurrences of a repeated field in the order
// they appear, so the decoded message is the edited one; and since inject
// appends nodes, initializers and inputs after the existing ones, in a
// model in canonical field order (node, initializer, input, output) nothing
// before the big initializers moves: they keep their offsets in the output,
// page-aligned with the input, which lets the kernel copy them page by page
// (a copy shifted by a few bytes touches two pages per page and is about a
// quarter slower).
func planLevel(fields []field, snap *snapshot, nest protowire.Number, nested func(*pieces) error) (pieces, error) {
	live := snap.live
	if !equalOutside(live.Interface(), snap.clone, protoreflect.FieldNumber(nest)) {
		return nil, unspliceable("inject changed a non-list field of %s", live.Descriptor().Name())
	}
	plans := map[protowire.Number]*listPlan{}
	for _, fd := range listFields(live.Descriptor()) {
		num := protowire.Number(fd.Number())
		orig := snap.elems[fd.Number()]
		origList := snap.clone.ProtoReflect().Get(fd).List()
		index := make(map[proto.Message]int, len(orig))
		for i, e := range orig {
			index[e] = i
		}
		var at []int // at[i]: the index in fields of original element i
		for k, f := range fields {
			if f.num == num && f.typ == protowire.BytesType {
				at = append(at, k)
			}
		}
		if len(at) != len(orig) {
			return nil, unspliceable("field %s: %d entries in the file, %d decoded", fd.Name(), len(at), len(orig))
		}
		p := &listPlan{}
		used := make([]bool, len(orig))
		l := live.Get(fd).List()
		for j := 0; j < l.Len(); j++ {
			e := l.Get(j).Message().Interface()
			i, ok := index[e]
			if !ok {
				p.tail = append(p.tail, tailElem{orig: -1, m: e})
				continue
			}
			used[i] = true
			changed := !proto.Equal(e, origList.Get(i).Message().Interface())
			switch {
			case changed && fields[at[i]].stripped:
				return nil, unspliceable("inject changed %s %d, which holds tensor data", fd.Name(), i)
			case changed:
				p.tail = append(p.tail, tailElem{orig: -1, m: e})
			case i == j && len(p.tail) == 0:
				p.keep++
			default:
				p.tail = append(p.tail, tailElem{orig: at[i]})
			}
		}
		// A new element equal to a removed one that had tensor data would
		// have lost its data in the skeleton.
		for i := range orig {
			if used[i] || !fields[at[i]].stripped {
				continue
			}
			for j := 0; j < l.Len(); j++ {
				if proto.Equal(l.Get(j).Message().Interface(), origList.Get(i).Message().Interface()) {
					return nil, unspliceable("inject moved %s %d, which holds tensor data", fd.Name(), i)
				}
			}
		}
		plans[num] = p
	}

	var out pieces
	counts := map[protowire.Number]int{}
	for _, f := range fields {
		p := plans[f.num]
		switch {
		case p != nil && f.typ == protowire.BytesType:
			if counts[f.num] < p.keep {
				out.copyRange(f.start, f.end)
			}
			counts[f.num]++
		case f.num == nest && f.typ == protowire.BytesType:
			if err := nested(&out); err != nil {
				return nil, err
			}
		default:
			out.copyRange(f.start, f.end)
		}
	}
	nums := make([]protowire.Number, 0, len(plans))
	for num := range plans {
		nums = append(nums, num)
	}
	slices.Sort(nums)
	for _, num := range nums {
		for _, te := range plans[num].tail {
			if te.orig >= 0 {
				out.copyRange(fields[te.orig].start, fields[te.orig].end)
				continue
			}
			b, err := encodeField(nil, num, te.m)
			if err != nil {
				return nil, err
			}
			out.literal(b)
		}
	}
	return out, nil
}
