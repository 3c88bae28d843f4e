package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/onnxloss/onnxloss/internal/termtext"
)

// WriteText prints the report as a short table: output, case, max abs err,
// max rel err, pass/fail; then one line per failure naming the output and
// the worst element.
func (r *Report) WriteText(w io.Writer) error {
	name := termtext.Name
	if r.ScaledDefault {
		fmt.Fprintf(w, "verify %s (%s; outputs vs expected: s·(|want| + max|want|), s = %.3g for float32; closed form: rtol %g, atol %g)\n", name(r.Model), r.Mode, r.Scale, r.Tolerance.RTol, r.Tolerance.ATol)
	} else {
		fmt.Fprintf(w, "verify %s (%s; rtol %g, atol %g)\n", name(r.Model), r.Mode, r.Tolerance.RTol, r.Tolerance.ATol)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "output\tcheck\tmax abs err\tmax rel err\tresult")
	for _, c := range r.Checks {
		result := "pass"
		if !c.Pass {
			result = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3g\t%.3g\t%s\n", name(c.Output), termtext.Line(c.Name), c.MaxAbsErr, c.MaxRelErr, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Checks {
		if c.Pass {
			continue
		}
		if c.Problem != "" {
			fmt.Fprintf(w, "FAIL %s (%s): %s\n", name(c.Output), termtext.Line(c.Name), termtext.Line(c.Problem))
			continue
		}
		fmt.Fprintf(w, "FAIL %s[%d] (%s): got %.9g, want %.9g (allowed ±%.3g)\n", name(c.Output), c.Worst, termtext.Line(c.Name), c.WorstGot, c.WorstWant, c.Tolerance.ATol+c.Tolerance.RTol*math.Abs(c.WorstWant))
	}
	verdict := "all checks passed"
	if !r.Pass {
		verdict = "MISMATCH"
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

// WriteJSON prints the report as indented JSON. Non-finite numbers (an
// infinite relative error, a NaN output) are written as the strings "NaN",
// "Infinity" and "-Infinity", since JSON has no such numbers.
func (r *Report) WriteJSON(w io.Writer) error {
	type check struct {
		Check
		MaxAbsErr jsonFloat `json:"max_abs_err"`
		MaxRelErr jsonFloat `json:"max_rel_err"`
		WorstGot  jsonFloat `json:"worst_got"`
		WorstWant jsonFloat `json:"worst_want"`
	}
	out := struct {
		*Report
		Checks []check `json:"checks"`
	}{Report: r, Checks: make([]check, len(r.Checks))}
	for i, c := range r.Checks {
		out.Checks[i] = check{c, jsonFloat(c.MaxAbsErr), jsonFloat(c.MaxRelErr), jsonFloat(c.WorstGot), jsonFloat(c.WorstWant)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// jsonFloat encodes non-finite values as strings.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}
