package streaming

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/onnxloss/onnxloss/graphedit"
)

// kind is a message type of the ONNX schema that the scanner descends into:
// the ones that can (transitively) hold tensor payloads.
type kind int

const (
	kindNone kind = iota
	kindModel
	kindGraph
	kindNode
	kindAttribute
	kindTensor
	kindSparseTensor
	kindTrainingInfo
	kindFunction
)

// children maps a message kind and field number to the kind of the
// submessage stored there, for the fields that lead to tensors. Every other
// field is kept verbatim in the skeleton.
var children = map[kind]map[protowire.Number]kind{
	kindModel:        {7: kindGraph, 20: kindTrainingInfo, 25: kindFunction},
	kindGraph:        {1: kindNode, 5: kindTensor, 15: kindSparseTensor},
	kindNode:         {5: kindAttribute},
	kindAttribute:    {5: kindTensor, 6: kindGraph, 10: kindTensor, 11: kindGraph, 22: kindSparseTensor, 23: kindSparseTensor},
	kindSparseTensor: {1: kindTensor, 2: kindTensor},
	kindTrainingInfo: {1: kindGraph, 3: kindGraph},
	kindFunction:     {7: kindNode},
}

// fieldNames names the fields of each kind in error messages.
var fieldNames = map[kind]map[protowire.Number]string{
	kindModel: {1: "ir_version", 2: "producer_name", 3: "producer_version", 4: "domain", 5: "model_version",
		6: "doc_string", 7: "graph", 8: "opset_import", 14: "metadata_props", 20: "training_info", 25: "functions"},
	kindGraph: {1: "node", 2: "name", 5: "initializer", 10: "doc_string", 11: "input", 12: "output",
		13: "value_info", 14: "quantization_annotation", 15: "sparse_initializer"},
	kindNode: {1: "input", 2: "output", 3: "name", 4: "op_type", 5: "attribute", 6: "doc_string", 7: "domain"},
	kindAttribute: {1: "name", 2: "f", 3: "i", 4: "s", 5: "t", 6: "g", 7: "floats", 8: "ints", 9: "strings",
		10: "tensors", 11: "graphs", 13: "doc_string", 20: "type", 21: "ref_attr_name", 22: "sparse_tensor", 23: "sparse_tensors"},
	kindTensor: {1: "dims", 2: "data_type", 3: "segment", 4: "float_data", 5: "int32_data", 6: "string_data",
		7: "int64_data", 8: "name", 9: "raw_data", 10: "double_data", 11: "uint64_data", 12: "doc_string",
		13: "external_data", 14: "data_location"},
	kindSparseTensor: {1: "values", 2: "indices", 3: "dims"},
	kindTrainingInfo: {1: "initialization", 2: "initialization_binding", 3: "algorithm", 4: "update_binding"},
	kindFunction:     {1: "name", 4: "input", 5: "output", 6: "attribute", 7: "node", 8: "doc_string", 9: "opset_import", 10: "domain"},
}

// isPayload reports whether a field of a tensor holds element data: these
// fields are skipped, never read.
func isPayload(k kind, num protowire.Number, typ protowire.Type) bool {
	if k != kindTensor {
		return false
	}
	switch num {
	case 6, 9: // string_data, raw_data
		return typ == protowire.BytesType
	case 4: // float_data: packed or one fixed32 per element
		return typ == protowire.BytesType || typ == protowire.Fixed32Type
	case 10: // double_data
		return typ == protowire.BytesType || typ == protowire.Fixed64Type
	case 5, 7, 11: // int32_data, int64_data, uint64_data
		return typ == protowire.BytesType || typ == protowire.VarintType
	}
	return false
}

// FormatError reports a model file that is truncated or not valid protobuf.
// It wraps graphedit.ErrNotONNX.
type FormatError struct {
	// Path is the model file ("" when scanning a reader).
	Path string
	// Offset is the byte where the problem was found; for a truncated file,
	// its size.
	Offset int64
	// Field is the field being read, e.g. "graph.initializer.raw_data".
	Field string
	// Truncated is true when the data ends before a field does.
	Truncated bool
	// Reason says what is wrong with a corrupt file.
	Reason string
}

// Error returns one line naming the file, the byte, the field and the fix.
func (e *FormatError) Error() string {
	name := e.Path
	if name == "" {
		name = "model"
	}
	field := e.Field
	if field == "" {
		field = "top level"
	}
	if e.Truncated {
		return fmt.Sprintf("%s: truncated at byte %d (field %s): the file is incomplete, re-export or re-copy it", name, e.Offset, field)
	}
	return fmt.Sprintf("%s: corrupt at byte %d (field %s): %s; not a valid ONNX model, re-export it", name, e.Offset, field, e.Reason)
}

// Unwrap lets errors.Is(err, graphedit.ErrNotONNX) recognize format errors.
func (e *FormatError) Unwrap() error { return graphedit.ErrNotONNX }

// trail is the chain of fields from the top of the model to the one being
// read, for error messages; built only when an error is reported.
type trail struct {
	up  *trail
	k   kind // kind of the message holding the field
	num protowire.Number
}

func (t *trail) String() string {
	var parts []string
	for ; t != nil; t = t.up {
		name, ok := fieldNames[t.k][t.num]
		if !ok {
			name = fmt.Sprintf("field %d", t.num)
		}
		parts = append(parts, name)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".")
}

// field is one field of a scanned message as it lies in the file.
type field struct {
	num   protowire.Number
	typ   protowire.Type
	start int64 // the tag's first byte
	end   int64 // one past the value's last byte
	// stripped is true when the skeleton lacks payload bytes of this field.
	stripped bool
}

// scanResult is what a scan learns about a model file.
type scanResult struct {
	size int64
	// skeleton is the model encoded without tensor payload fields.
	skeleton []byte
	// top lists the model's fields, graph those of its main graph (the
	// fields of the last graph field when there are several; graphCount
	// says how many there were).
	top, graph []field
	graphCount int
	// payload counts the payload bytes skipped, read counts the bytes read.
	payload, read int64
}

const (
	// bulkLimit is the largest message read in one piece while scanning;
	// tensors are always read field by field so their payloads are skipped.
	bulkLimit = 64 << 10
	// maxDepth bounds message nesting, like protobuf's own decoder.
	maxDepth = 10000
)

// scanner reads a model through an io.ReaderAt.
type scanner struct {
	r    io.ReaderAt
	size int64
	// mem caches the bytes [memOff, memOff+len(mem)) of a small message.
	mem    []byte
	memOff int64
	res    *scanResult
}

// scan walks the model in r (size bytes) and returns its layout and
// skeleton. Tensor payloads are skipped without being read.
func scan(r io.ReaderAt, size int64) (*scanResult, error) {
	s := &scanner{r: r, size: size, res: &scanResult{size: size}}
	if size == 0 {
		return nil, &FormatError{Reason: "the file is empty"}
	}
	sk, _, err := s.message(kindModel, 0, size, nil, 0, &s.res.top)
	if err != nil {
		return nil, err
	}
	s.res.skeleton = sk
	return s.res, nil
}

// read returns the n bytes at pos, or fewer at the end of the file.
func (s *scanner) read(pos int64, n int64) ([]byte, error) {
	if pos >= s.memOff && pos+n <= s.memOff+int64(len(s.mem)) {
		return s.mem[pos-s.memOff : pos-s.memOff+n], nil
	}
	if pos+n > s.size {
		n = max(s.size-pos, 0)
	}
	buf := make([]byte, n)
	m, err := s.r.ReadAt(buf, pos)
	s.res.read += int64(m)
	if int64(m) == n || err == nil || errors.Is(err, io.EOF) {
		return buf[:m], nil
	}
	return nil, fmt.Errorf("reading byte %d: %w", pos, err)
}

// overrun reports a field that ends at want beyond its message's end: a
// truncation if want is past the end of the file, else corruption.
func (s *scanner) overrun(at, want int64, tr *trail) error {
	if want > s.size {
		return &FormatError{Offset: s.size, Field: tr.String(), Truncated: true}
	}
	return &FormatError{Offset: at, Field: tr.String(), Reason: fmt.Sprintf("the field runs to byte %d, past the end of its enclosing message", want)}
}

// varint reads a varint at pos that must end by end.
func (s *scanner) varint(pos, end int64, tr *trail) (uint64, int64, error) {
	b, err := s.read(pos, min(int64(protowire.SizeVarint(1<<63)), end-pos))
	if err != nil {
		return 0, 0, err
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		if errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF) {
			// The varint runs past end: past the file if end is its end.
			return 0, 0, s.overrun(pos, end+1, tr)
		}
		return 0, 0, &FormatError{Offset: pos, Field: tr.String(), Reason: "invalid varint"}
	}
	return v, int64(n), nil
}

// message scans the message of kind k at [start, end) and returns its
// encoding without tensor payloads, and whether anything was stripped. When
// rec is non-nil the message's fields are appended to it.
func (s *scanner) message(k kind, start, end int64, tr *trail, depth int, rec *[]field) ([]byte, bool, error) {
	if depth > maxDepth {
		return nil, false, &FormatError{Offset: start, Field: tr.String(), Reason: "messages nested too deeply"}
	}
	if k != kindTensor && end-start <= bulkLimit && !(start >= s.memOff && end <= s.memOff+int64(len(s.mem))) {
		b, err := s.read(start, end-start)
		if err != nil {
			return nil, false, err
		}
		saved, savedOff := s.mem, s.memOff
		s.mem, s.memOff = b, start
		defer func() { s.mem, s.memOff = saved, savedOff }()
	}
	var out []byte
	stripped := false
	pos := start
	for pos < end {
		fstart := pos
		tv, n, err := s.varint(pos, end, tr)
		if err != nil {
			return nil, false, err
		}
		num, typ := protowire.DecodeTag(tv)
		ftr := &trail{up: tr, k: k, num: num}
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber || tv>>3 > uint64(protowire.MaxValidNumber) {
			return nil, false, &FormatError{Offset: pos, Field: tr.String(), Reason: fmt.Sprintf("invalid field number %d", tv>>3)}
		}
		pos += n
		vstart, vend := pos, pos
		switch typ {
		case protowire.VarintType:
			_, n, err := s.varint(pos, end, ftr)
			if err != nil {
				return nil, false, err
			}
			vend = pos + n
		case protowire.Fixed32Type:
			vend = pos + 4
		case protowire.Fixed64Type:
			vend = pos + 8
		case protowire.BytesType:
			l, n, err := s.varint(pos, end, ftr)
			if err != nil {
				return nil, false, err
			}
			vstart = pos + n
			if l > 1<<62 { // beyond any file; keeps vend from overflowing
				return nil, false, s.overrun(fstart, s.size+1, ftr)
			}
			vend = vstart + int64(l)
		case protowire.StartGroupType:
			vend, err = s.group(num, pos, end, ftr, depth+1)
			if err != nil {
				return nil, false, err
			}
		default:
			return nil, false, &FormatError{Offset: fstart, Field: ftr.String(), Reason: fmt.Sprintf("invalid wire type %d", typ)}
		}
		child := children[k][num]
		if vend > end {
			if child != kindNone && typ == protowire.BytesType && vend > s.size && end == s.size {
				// Find the innermost field the truncation cuts.
				if _, _, err := s.message(child, vstart, s.size, ftr, depth+1, nil); err != nil {
					return nil, false, err
				}
			}
			return nil, false, s.overrun(fstart, vend, ftr)
		}
		fieldStripped := false
		switch {
		case child != kindNone && typ == protowire.BytesType:
			var childRec *[]field
			if k == kindModel && num == 7 {
				s.res.graphCount++
				s.res.graph = s.res.graph[:0]
				childRec = &s.res.graph
			}
			sub, st, err := s.message(child, vstart, vend, ftr, depth+1, childRec)
			if err != nil {
				return nil, false, err
			}
			out = protowire.AppendTag(out, num, typ)
			out = protowire.AppendBytes(out, sub)
			fieldStripped = st
		case isPayload(k, num, typ):
			if err := s.checkPacked(num, typ, vstart, vend, ftr); err != nil {
				return nil, false, err
			}
			s.res.payload += vend - vstart
			fieldStripped = true
		default:
			b, err := s.read(fstart, vend-fstart)
			if err != nil {
				return nil, false, err
			}
			out = append(out, b...)
		}
		stripped = stripped || fieldStripped
		if rec != nil {
			*rec = append(*rec, field{num: num, typ: typ, start: fstart, end: vend, stripped: fieldStripped})
		}
		pos = vend
	}
	return out, stripped, nil
}

// checkPacked applies the checks protobuf's decoder makes on packed
// payloads that need no reading: fixed-size elements fill the field, and a
// varint list does not end inside a varint.
func (s *scanner) checkPacked(num protowire.Number, typ protowire.Type, vstart, vend int64, tr *trail) error {
	if typ != protowire.BytesType {
		return nil
	}
	switch num {
	case 4:
		if (vend-vstart)%4 != 0 {
			return &FormatError{Offset: vstart, Field: tr.String(), Reason: "packed float data is not a whole number of floats"}
		}
	case 10:
		if (vend-vstart)%8 != 0 {
			return &FormatError{Offset: vstart, Field: tr.String(), Reason: "packed double data is not a whole number of doubles"}
		}
	case 5, 7, 11:
		if vend > vstart {
			b, err := s.read(vend-1, 1)
			if err != nil {
				return err
			}
			if len(b) == 1 && b[0] >= 0x80 {
				return &FormatError{Offset: vend - 1, Field: tr.String(), Reason: "packed integer data ends inside a varint"}
			}
		}
	}
	return nil
}

// group skips a group field whose start tag ended at pos and returns the
// position after its end tag.
func (s *scanner) group(num protowire.Number, pos, end int64, tr *trail, depth int) (int64, error) {
	if depth > maxDepth {
		return 0, &FormatError{Offset: pos, Field: tr.String(), Reason: "groups nested too deeply"}
	}
	for pos < end {
		tv, n, err := s.varint(pos, end, tr)
		if err != nil {
			return 0, err
		}
		fnum, typ := protowire.DecodeTag(tv)
		// Inside groups protobuf's decoder takes any number up to 2³¹−1.
		if tv>>3 < 1 || tv>>3 > math.MaxInt32 {
			return 0, &FormatError{Offset: pos, Field: tr.String(), Reason: "invalid field number in a group"}
		}
		at := pos
		pos += n
		switch typ {
		case protowire.EndGroupType:
			if fnum != num {
				return 0, &FormatError{Offset: at, Field: tr.String(), Reason: "mismatched end of group"}
			}
			return pos, nil
		case protowire.VarintType:
			_, n, err := s.varint(pos, end, tr)
			if err != nil {
				return 0, err
			}
			pos += n
		case protowire.Fixed32Type:
			pos += 4
		case protowire.Fixed64Type:
			pos += 8
		case protowire.BytesType:
			l, n, err := s.varint(pos, end, tr)
			if err != nil {
				return 0, err
			}
			if l > 1<<62 {
				return 0, s.overrun(at, s.size+1, tr)
			}
			pos += n + int64(l)
		case protowire.StartGroupType:
			pos, err = s.group(fnum, pos, end, tr, depth+1)
			if err != nil {
				return 0, err
			}
		default:
			return 0, &FormatError{Offset: at, Field: tr.String(), Reason: fmt.Sprintf("invalid wire type %d", typ)}
		}
	}
	return 0, s.overrun(pos, max(pos, end+1), tr)
}
