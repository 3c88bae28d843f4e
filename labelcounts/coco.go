package labelcounts

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

// cocoCategory is one entry of a COCO file's "categories".
type cocoCategory struct {
	ID   *int64 `json:"id"`
	Name string `json:"name"`
}

// cocoAnnotation is the part of one entry of "annotations" that is counted.
type cocoAnnotation struct {
	CategoryID *int64 `json:"category_id"`
	IsCrowd    int64  `json:"iscrowd"`
}

// countCOCO counts the annotations of a COCO instances file per category.
// Categories become classes 0..C-1 in the order of their ids, named by
// their names. The file is streamed: one annotation (or image, or other
// top-level entry) at a time is in memory, so the memory used does not grow
// with the file. With opt.COCOExcludeCrowd, annotations with iscrowd = 1
// are left out (counted as ignored).
func countCOCO(r io.Reader, opt Options, c *counter) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not valid JSON: %s", jsonProblem(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a COCO file: the top-level JSON value is not an object with \"annotations\" and \"categories\"")
	}
	perCategory := map[int64]int64{}
	var categories []cocoCategory
	sawAnnotations, sawCategories := false, false
	var annotations int64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("not valid JSON: %s", jsonProblem(err))
		}
		key, _ := tok.(string)
		switch key {
		case "annotations":
			if sawAnnotations {
				return errors.New(`key "annotations" appears twice`)
			}
			sawAnnotations = true
			if err := expectDelim(dec, '[', `"annotations"`); err != nil {
				return err
			}
			for dec.More() {
				var a cocoAnnotation
				if err := dec.Decode(&a); err != nil {
					return fmt.Errorf("annotation %d: %s", annotations, jsonProblem(err))
				}
				if a.CategoryID == nil {
					return fmt.Errorf("annotation %d has no category_id: every annotation needs one", annotations)
				}
				annotations++
				if opt.COCOExcludeCrowd && a.IsCrowd == 1 {
					c.labels++
					c.ignored++
					continue
				}
				perCategory[*a.CategoryID]++
			}
			if err := expectDelim(dec, ']', `"annotations"`); err != nil {
				return err
			}
		case "categories":
			sawCategories = true
			if err := dec.Decode(&categories); err != nil {
				return fmt.Errorf(`"categories": %s`, jsonProblem(err))
			}
		default:
			if err := skipValue(dec); err != nil {
				return fmt.Errorf("%q: %s", key, jsonProblem(err))
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("not valid JSON: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	switch {
	case !sawAnnotations:
		return errors.New(`has no "annotations": a COCO instances file has "annotations" and "categories" (captions and image-only files have no classes)`)
	case annotations == 0:
		return errors.New(`"annotations" is empty: nothing to count`)
	case !sawCategories || len(categories) == 0:
		return errors.New(`has no "categories": the class ids and names come from them`)
	}
	return addCOCOCounts(categories, perCategory, c)
}

// addCOCOCounts maps category ids to classes 0..C-1 in id order and adds
// the counts.
func addCOCOCounts(categories []cocoCategory, perCategory map[int64]int64, c *counter) error {
	sort.SliceStable(categories, func(i, j int) bool {
		return categoryID(categories[i]) < categoryID(categories[j])
	})
	names := make([]string, len(categories))
	index := make(map[int64]int, len(categories))
	for i, cat := range categories {
		if cat.ID == nil {
			return fmt.Errorf("category %q has no id", cat.Name)
		}
		if _, dup := index[*cat.ID]; dup {
			return fmt.Errorf("category id %d appears twice in \"categories\"", *cat.ID)
		}
		if cat.Name == "" {
			return fmt.Errorf("category %d has no name", *cat.ID)
		}
		index[*cat.ID] = i
		names[i] = cat.Name
	}
	if c.classes != nil && !slices.Equal(c.classes, names) {
		return errors.New(`its "categories" differ from the first COCO file's: count files of one dataset together`)
	}
	c.classes = names
	if c.classIndex != nil {
		return errors.New("a COCO file names its classes (categories): drop --classes")
	}
	if c.fixed && len(c.counts) != len(names) {
		return fmt.Errorf("--num-classes %d but the file has %d categories", len(c.counts), len(names))
	}
	c.grow(int64(len(names)))
	ids := make([]int64, 0, len(perCategory))
	for id := range perCategory {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		i, ok := index[id]
		if !ok {
			return fmt.Errorf("annotations use category_id %d, which is not in \"categories\"", id)
		}
		c.counts[i] += perCategory[id]
		c.labels += perCategory[id]
	}
	c.sawID = true
	return nil
}

func categoryID(c cocoCategory) int64 {
	if c.ID == nil {
		return -1 << 63
	}
	return *c.ID
}

// expectDelim reads the delimiter d.
func expectDelim(dec *json.Decoder, d json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %s", what, jsonProblem(err))
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		if d == '[' {
			return fmt.Errorf("%s is not an array", what)
		}
		return fmt.Errorf("%s: expected %q", what, string(d))
	}
	return nil
}

// skipValue reads past one JSON value, holding at most one element of an
// array or object in memory at a time.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	for dec.More() {
		if d == '{' {
			if _, err := dec.Token(); err != nil { // the key
				return err
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// jsonProblem describes a JSON decoding error in one line.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s is a JSON %s, want %s", te.Field, te.Value, te.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of data; the file looks truncated"
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch == '\n' || ch == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
