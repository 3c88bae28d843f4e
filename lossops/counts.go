package lossops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/onnxloss/onnxloss/internal/smallfile"
)

// Counts holds per-class sample counts read from a counts file.
type Counts struct {
	// Values holds one finite, non-negative count per class; class c is Values[c].
	Values []float64
	// Classes holds the class names when the file gave them (the
	// {"counts": [...], "classes": [...]} form), else nil.
	Classes []string
	// Origin says where the counts came from, when the file records it
	// (onnxloss counts writes it); nil otherwise.
	Origin *CountsOrigin
}

// CountsOrigin is what a counts file records about its source, beside the
// counts: onnxloss counts writes it and inject's metadata carries it.
type CountsOrigin struct {
	// Source lists the inputs counted, as given; Format is their format.
	Source []string `json:"source,omitempty"`
	Format string   `json:"format,omitempty"`
	// IgnoreIndex is the label value left out of the counts, if any.
	IgnoreIndex *int64 `json:"ignore_index,omitempty"`
	// Samples is the number of samples when it is not the sum of the
	// counts (multi-hot rows); 0 when it is.
	Samples float64 `json:"samples,omitempty"`
	// Images[c] is the number of mask images class c appears in and
	// ImagePixels[c] the pixels of those images (median-frequency weights
	// need them); nil when unknown.
	Images      []float64 `json:"images,omitempty"`
	ImagePixels []float64 `json:"image_pixels,omitempty"`
}

// countsExample is appended to format errors so the user sees what is accepted.
const countsExample = `use a JSON array like [500, 120, 7], {"counts": [500, 120, 7], "classes": ["cat", "dog", "eel"]} or {"0": 500, "1": 120, "2": 7}`

// LoadCounts reads and parses the counts file at path (see ParseCounts for
// the accepted forms). Every error is one line that names the file.
func LoadCounts(path string) (*Counts, error) {
	data, err := smallfile.Read(path, smallfile.DefaultLimit)
	if err != nil {
		switch {
		case errors.Is(err, smallfile.ErrTooLarge):
			return nil, fmt.Errorf("counts file %s is larger than %d MiB: a counts file is a small JSON of per-class counts (is it the right file?)", path, smallfile.DefaultLimit>>20)
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("counts file %s does not exist: give the path of a JSON file of per-class counts", path)
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("counts file %s is not readable: permission denied", path)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("counts file %s cannot be read: %v", path, err)
	}
	c, err := parseCounts(data)
	if err != nil {
		return nil, fmt.Errorf("counts file %s: %v", path, err)
	}
	return c, nil
}

// ParseCounts parses per-class counts in one of three JSON forms:
//
//	[500, 120, 7]
//	{"counts": [500, 120, 7], "classes": ["cat", "dog", "eel"]}
//	{"0": 500, "1": 120, "2": 7}
//
// Counts must be finite numbers >= 0 and there must be at least one class.
// In the third form the keys must be the class ids 0..C-1, each exactly
// once. Class names, when given, must be as many as the counts, non-empty and
// distinct. Trailing data after the JSON value is an error. Errors are one
// line and say what would be accepted.
func ParseCounts(data []byte) (*Counts, error) {
	c, err := parseCounts(data)
	if err != nil {
		return nil, fmt.Errorf("counts: %v", err)
	}
	return c, nil
}

func parseCounts(data []byte) (*Counts, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // tolerate a UTF-8 BOM
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("file is empty: %s", countsExample)
	}
	if !json.Valid(trimmed) {
		return nil, fmt.Errorf("not valid JSON (%s): %s", jsonSyntaxProblem(trimmed), countsExample)
	}
	// The data is one valid JSON value, so no trailing data is possible from
	// here on; the decoder is used only to walk object keys in order.
	switch trimmed[0] {
	case '[':
		vals, err := parseCountArray(json.RawMessage(trimmed), "count")
		if err != nil {
			return nil, err
		}
		return &Counts{Values: vals}, nil
	case '{':
		return parseCountObject(trimmed)
	}
	return nil, fmt.Errorf("top-level JSON value is %s, not an array or object: %s", jsonKind(trimmed), countsExample)
}

// jsonSyntaxProblem describes why data is not valid JSON.
func jsonSyntaxProblem(data []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			return fmt.Sprintf("unexpected data after the JSON value at byte %d", dec.InputOffset())
		}
		return "invalid JSON"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg := fmt.Sprintf("%v at byte %d", se, se.Offset)
		if bytes.Contains(data, []byte("NaN")) || bytes.Contains(data, []byte("Infinity")) {
			msg += "; NaN and Infinity are not JSON numbers, and counts must be finite"
		}
		return msg
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return "unexpected end of data; the file looks truncated"
	}
	return oneLine(err.Error())
}

// jsonKind names the kind of the JSON value raw (which must be valid JSON).
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '[':
		return "an array"
	case '{':
		return "an object"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func quoteShort(raw []byte) string {
	s := oneLine(string(raw))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// parseCountValue converts one JSON value to a count; what names it in errors.
func parseCountValue(raw json.RawMessage, what string) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, fmt.Errorf("%s is missing: counts must be finite numbers >= 0", what)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			t := strings.ToLower(strings.TrimSpace(s))
			t = strings.TrimLeft(t, "+-")
			if t == "nan" || t == "inf" || t == "infinity" {
				return 0, fmt.Errorf("%s is the string %q: counts must be finite numbers >= 0 (NaN and Inf are not counts)", what, s)
			}
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return 0, fmt.Errorf("%s is the string %q: write it as a JSON number without quotes", what, s)
			}
		}
		return 0, fmt.Errorf("%s is the string %s, not a number: counts must be finite numbers >= 0", what, quoteShort(raw))
	case '[', '{', 't', 'f', 'n':
		return 0, fmt.Errorf("%s is %s, not a number: counts must be finite numbers >= 0", what, jsonKind(raw))
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%s is %s, which is out of range: counts must be finite numbers >= 0", what, quoteShort(raw))
	}
	if v < 0 {
		return 0, fmt.Errorf("%s is %s: counts must be >= 0", what, quoteShort(raw))
	}
	if v == 0 {
		v = 0 // turn -0 into 0
	}
	return v, nil
}

// parseCountArray parses a JSON array of counts; what names an element in errors.
func parseCountArray(raw json.RawMessage, what string) ([]float64, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("the counts are %s, not an array: %s", jsonKind(raw), countsExample)
	}
	if len(elems) == 0 {
		return nil, fmt.Errorf("the counts array is empty: give one count per class, e.g. [500, 120, 7]")
	}
	vals := make([]float64, len(elems))
	for i, e := range elems {
		v, err := parseCountValue(e, fmt.Sprintf("%s %d", what, i))
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

type keyValue struct {
	key string
	raw json.RawMessage
}

// objectEntries returns the entries of the valid JSON object data, in order
// and with duplicates kept (encoding/json would silently keep the last one).
func objectEntries(data []byte) ([]keyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, fmt.Errorf("not valid JSON (%s): %s", oneLine(err.Error()), countsExample)
	}
	var out []keyValue
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not valid JSON (%s): %s", oneLine(err.Error()), countsExample)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("not valid JSON (object key is not a string): %s", countsExample)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not valid JSON (%s): %s", oneLine(err.Error()), countsExample)
		}
		out = append(out, keyValue{key, raw})
	}
	return out, nil
}

func parseCountObject(data []byte) (*Counts, error) {
	entries, err := objectEntries(data)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("the object is empty: %s", countsExample)
	}
	named := false
	for _, e := range entries {
		if e.key == "counts" || e.key == "classes" {
			named = true
		}
	}
	if named {
		return parseNamedCounts(entries)
	}
	return parseIDCounts(entries)
}

// parseNamedCounts parses {"counts": [...], "classes": [...]}, and the
// origin keys onnxloss counts writes (see CountsOrigin).
func parseNamedCounts(entries []keyValue) (*Counts, error) {
	raws := map[string]json.RawMessage{}
	for _, e := range entries {
		switch e.key {
		case "counts", "classes", "samples", "images", "image_pixels", "source", "format", "ignore_index":
		default:
			return nil, fmt.Errorf(`unknown key %q: an object with "counts" may also have "classes", "samples", "images", "image_pixels", "source", "format" and "ignore_index"`, e.key)
		}
		if _, dup := raws[e.key]; dup {
			return nil, fmt.Errorf(`key %q appears twice: give it once`, e.key)
		}
		raws[e.key] = e.raw
	}
	countsRaw, classesRaw := raws["counts"], raws["classes"]
	if countsRaw == nil {
		return nil, fmt.Errorf(`key "counts" is missing: use {"counts": [500, 120, 7], "classes": ["cat", "dog", "eel"]}`)
	}
	vals, err := parseCountArray(countsRaw, "count")
	if err != nil {
		return nil, err
	}
	c := &Counts{Values: vals}
	if c.Origin, err = parseOrigin(raws, len(vals)); err != nil {
		return nil, err
	}
	if classesRaw == nil || string(bytes.TrimSpace(classesRaw)) == "null" {
		return c, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(classesRaw, &elems); err != nil {
		return nil, fmt.Errorf(`"classes" is %s, not an array: give an array of class names like ["cat", "dog", "eel"]`, jsonKind(classesRaw))
	}
	if len(elems) != len(vals) {
		return nil, fmt.Errorf(`"classes" has %d names but "counts" has %d values: give one name per count`, len(elems), len(vals))
	}
	names := make([]string, len(elems))
	seen := make(map[string]int, len(elems))
	for i, e := range elems {
		var s string
		if err := json.Unmarshal(e, &s); err != nil {
			return nil, fmt.Errorf("class name %d is %s, not a string: give class names as JSON strings", i, jsonKind(e))
		}
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("class name %d is empty: give every class a non-empty name", i)
		}
		if j, dup := seen[s]; dup {
			return nil, fmt.Errorf("class name %q is given twice (classes %d and %d): class names must be distinct", s, j, i)
		}
		seen[s] = i
		names[i] = s
	}
	c.Classes = names
	return c, nil
}

// parseOrigin parses the origin keys of a counts object (nil if none).
func parseOrigin(raws map[string]json.RawMessage, C int) (*CountsOrigin, error) {
	var o CountsOrigin
	set := false
	if raw, ok := raws["samples"]; ok {
		v, err := parseCountValue(raw, `"samples"`)
		if err != nil {
			return nil, err
		}
		o.Samples, set = v, true
	}
	for _, k := range []string{"images", "image_pixels"} {
		raw, ok := raws[k]
		if !ok {
			continue
		}
		vals, err := parseCountArray(raw, k+" entry")
		if err != nil {
			return nil, fmt.Errorf("%q: %v", k, err)
		}
		if len(vals) != C {
			return nil, fmt.Errorf("%q has %d values but \"counts\" has %d: give one per class", k, len(vals), C)
		}
		if k == "images" {
			o.Images = vals
		} else {
			o.ImagePixels = vals
		}
		set = true
	}
	if (o.Images == nil) != (o.ImagePixels == nil) {
		return nil, errors.New(`"images" and "image_pixels" go together: give both or neither`)
	}
	if raw, ok := raws["source"]; ok {
		if err := json.Unmarshal(raw, &o.Source); err != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				return nil, fmt.Errorf(`"source" is %s: give the inputs as an array of strings`, jsonKind(raw))
			}
			o.Source = []string{one}
		}
		set = true
	}
	if raw, ok := raws["format"]; ok {
		if err := json.Unmarshal(raw, &o.Format); err != nil {
			return nil, fmt.Errorf(`"format" is %s, not a string`, jsonKind(raw))
		}
		set = true
	}
	if raw, ok := raws["ignore_index"]; ok {
		var v int64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf(`"ignore_index" is %s, not an integer`, quoteShort(raw))
		}
		o.IgnoreIndex, set = &v, true
	}
	if !set {
		return nil, nil
	}
	return &o, nil
}

// parseIDCounts parses {"0": n0, "1": n1, ...}.
func parseIDCounts(entries []keyValue) (*Counts, error) {
	n := len(entries)
	ids := make([]uint64, n)
	have := make([]bool, n)
	var outOfRange []uint64
	for i, e := range entries {
		id, ok := parseClassID(e.key)
		if !ok {
			return nil, fmt.Errorf("key %q is not a class id: keys must be the class ids \"0\"..\"%d\" (or use {\"counts\": [...], \"classes\": [...]})", e.key, n-1)
		}
		ids[i] = id
		if id >= uint64(n) {
			outOfRange = append(outOfRange, id)
			continue
		}
		if have[id] {
			return nil, fmt.Errorf("class id %d appears twice: give each id 0..%d once", id, n-1)
		}
		have[id] = true
	}
	if len(outOfRange) > 0 {
		// n keys, some >= n: at least one id in 0..n-1 is missing.
		missing := 0
		for missing < n && have[missing] {
			missing++
		}
		return nil, fmt.Errorf("class id %d is missing (found id %d): the keys must be the class ids 0..%d, each once", missing, outOfRange[0], n-1)
	}
	vals := make([]float64, n)
	for i, e := range entries {
		v, err := parseCountValue(e.raw, fmt.Sprintf("count of class %d", ids[i]))
		if err != nil {
			return nil, err
		}
		vals[ids[i]] = v
	}
	// n distinct ids, all < n: every id 0..n-1 is present.
	return &Counts{Values: vals}, nil
}

// parseClassID accepts canonical non-negative decimal integers: "0", "17";
// not "01", "+1", " 1", "1.0" or "-1".
func parseClassID(s string) (uint64, bool) {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}
