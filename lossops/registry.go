package lossops

import (
	"fmt"
	"sort"
	"strings"
)

// Def is one entry of the loss catalogue: everything the builder, the
// float64 reference, the CLI and the README need to know about a loss.
// Each loss (or small family) registers its Def from its own file
// (loss_*.go); nothing else in the package switches on loss names.
type Def struct {
	// Name is the --loss value.
	Name Loss
	// order places the loss in the catalogue (README and --help order).
	order int
	// Sigmoid says the loss scores each class independently with a sigmoid
	// and so accepts multi-hot targets and a background label.
	Sigmoid bool
	// MultiHot says the loss accepts --targets multi-hot (default: Sigmoid).
	MultiHot bool
	// FromCounts says the loss derives logit offsets or margins from the
	// counts (see Spec.Adjustments).
	FromCounts bool
	// UsesCounts says the loss reads Spec.Counts itself (not as offsets
	// or margins, see FromCounts).
	UsesCounts bool
	// NoWeights says the loss accepts no class weights.
	NoWeights bool
	// PerElement says the loss is per logit element: reduction none
	// returns the logits' shape.
	PerElement bool
	// OneHot says the builder needs the one-hot target tensor of index labels.
	OneHot bool
	// Weighting is the class weighting used when --weighting is not given.
	Weighting Weighting
	// Params are the names of the parameters (see Params) the loss reads.
	Params []string
	// Defaults overrides a parameter's catalogue-wide default for this loss.
	Defaults map[string]float64

	// Formula is the README row's per-position loss l_p.
	Formula string
	// MeanDivisor is what the mean divides Σ l by.
	MeanDivisor string
	// WeightingDoc describes the default weighting in the README.
	WeightingDoc string
	// Reference names the implementation the loss matches exactly.
	Reference string

	// validate checks the loss's own parameters (nil: nothing to check).
	validate func(s Spec) error
	// build appends the loss subgraph; the labels are prepared already.
	build func(g *lossGraph) (string, error)
	// position is the closed form of one non-ignored position (losses
	// that are sums over positions); see refPosition.
	position func(r *refPosition)
	// batch is the closed form of a loss that is not a sum over
	// positions (region losses such as Dice): it gets the whole batch.
	batch func(in *refBatch) ([]float64, []int, error)
}

// registry holds the catalogue by name.
var registry = map[Loss]*Def{}

// register adds d to the catalogue; called from the loss files' init.
func register(d *Def) {
	if _, dup := registry[d.Name]; dup {
		panic("lossops: loss " + string(d.Name) + " registered twice")
	}
	if (d.position == nil) == (d.batch == nil) || d.build == nil {
		panic("lossops: loss " + string(d.Name) + " needs a builder and exactly one closed form")
	}
	if d.Weighting == "" {
		d.Weighting = WeightNone
	}
	registry[d.Name] = d
	Losses = append(Losses, d.Name)
	sort.SliceStable(Losses, func(i, j int) bool { return registry[Losses[i]].order < registry[Losses[j]].order })
}

// Lookup returns the catalogue entry of l, or nil for an unknown loss.
func Lookup(l Loss) *Def { return registry[l] }

// def returns l's entry or an empty one, so the predicates below never
// dereference nil for an unknown name (Validate reports it).
func (l Loss) def() *Def {
	if d := registry[l]; d != nil {
		return d
	}
	return &Def{}
}

// Param is a numeric parameter of one or more losses, given by the flag of
// the same name.
type Param struct {
	// Name is the flag name, e.g. "gamma".
	Name string
	// Default is the catalogue-wide default (a loss may override it).
	Default float64
	// Help is the flag's help text, without the list of losses.
	Help string
	// set stores v into the spec.
	set func(s *Spec, v float64)
	get func(s Spec) float64
}

// Params lists the numeric loss parameters, in --help order.
var Params = []Param{
	{Name: "gamma", Default: 2, Help: "γ >= 0: the focusing parameter, or the exponent of tversky's mean", set: func(s *Spec, v float64) { s.Gamma = v }, get: func(s Spec) float64 { return s.Gamma }},
	{Name: "alpha", Default: 0.25, Help: "α <= 1: the weight of the positives (negative disables it), or tversky's weight of the false positives", set: func(s *Spec, v float64) { s.Alpha = v }, get: func(s Spec) float64 { return s.Alpha }},
	{Name: "tau", Default: DefaultTau, Help: "τ: logits + τ·log(prior)", set: func(s *Spec, v float64) { s.Tau = v }, get: func(s Spec) float64 { return s.Tau }},
	{Name: "max-margin", Default: DefaultMaxMargin, Help: "largest margin (that of the rarest class), > 0", set: func(s *Spec, v float64) { s.MaxMargin = v }, get: func(s Spec) float64 { return s.MaxMargin }},
	{Name: "scale", Default: DefaultScale, Help: "logit scale s, > 0", set: func(s *Spec, v float64) { s.Scale = v }, get: func(s Spec) float64 { return s.Scale }},
	{Name: "label-smoothing", Default: 0, Help: "label smoothing ε in [0, 1)", set: func(s *Spec, v float64) { s.LabelSmoothing = v }, get: func(s Spec) float64 { return s.LabelSmoothing }},
	{Name: "epsilon", Default: 1, Help: "ε: CE + ε·(1 − p_y)", set: func(s *Spec, v float64) { s.Epsilon = v }, get: func(s Spec) float64 { return s.Epsilon }},
	{Name: "tversky-beta", Default: 0.5, Help: "β >= 0, the weight of the false negatives (--alpha weighs the false positives)", set: func(s *Spec, v float64) { s.TverskyBeta = v }, get: func(s Spec) float64 { return s.TverskyBeta }},
	{Name: "gamma-pos", Default: 1, Help: "focusing exponent of the positives, >= 0", set: func(s *Spec, v float64) { s.GammaPos = v }, get: func(s Spec) float64 { return s.GammaPos }},
	{Name: "gamma-neg", Default: 4, Help: "focusing exponent of the negatives, >= 0", set: func(s *Spec, v float64) { s.GammaNeg = v }, get: func(s Spec) float64 { return s.GammaNeg }},
	{Name: "clip", Default: 0.05, Help: "probability margin m of the negatives: p_neg = min(1 − p + m, 1), in [0, 1)", set: func(s *Spec, v float64) { s.Clip = v }, get: func(s Spec) float64 { return s.Clip }},
	{Name: "seesaw-p", Default: 0.8, Help: "exponent p of the mitigation factor (n_j/n_i)^p, >= 0", set: func(s *Spec, v float64) { s.SeesawP = v }, get: func(s Spec) float64 { return s.SeesawP }},
	{Name: "seesaw-q", Default: 2, Help: "exponent q of the compensation factor (σ_j/σ_i)^q, >= 0", set: func(s *Spec, v float64) { s.SeesawQ = v }, get: func(s Spec) float64 { return s.SeesawQ }},
	{Name: "smooth", Default: 0, Help: "smoothing added to the numerator and denominator, >= 0", set: func(s *Spec, v float64) { s.Smooth = v }, get: func(s Spec) float64 { return s.Smooth }},
}

// ParamByName returns the parameter called name.
func ParamByName(name string) (Param, bool) {
	for _, p := range Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Uses reports whether the loss reads the parameter called name.
func (d *Def) Uses(name string) bool {
	for _, p := range d.Params {
		if p == name {
			return true
		}
	}
	return false
}

// Default returns the loss's default for the parameter called name.
func (d *Def) Default(name string) float64 {
	if v, ok := d.Defaults[name]; ok {
		return v
	}
	p, _ := ParamByName(name)
	return p.Default
}

// SetParam stores v as the parameter called name of s.
func SetParam(s *Spec, name string, v float64) error {
	p, ok := ParamByName(name)
	if !ok {
		return fmt.Errorf("unknown loss parameter %q", name)
	}
	p.set(s, v)
	return nil
}

// ParamUsers lists the losses that read the parameter called name, in
// catalogue order, for flag help.
func ParamUsers(name string) []Loss {
	var out []Loss
	for _, l := range Losses {
		if registry[l].Uses(name) {
			out = append(out, l)
		}
	}
	return out
}

// ReadmeTable returns the README's table of losses, generated from the
// catalogue (a test keeps README.md in step with it).
func ReadmeTable() string {
	var b strings.Builder
	b.WriteString("| `--loss` | per-position loss l_p | `mean` divides Σ l by | default weighting | matches exactly |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, l := range Losses {
		d := registry[l]
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", d.Name, d.Formula, d.MeanDivisor, d.WeightingDoc, d.Reference)
	}
	return b.String()
}

// Describe returns the catalogue as text for `onnxloss losses`: per loss
// its formula, mean divisor, default weighting, parameters with their
// defaults, and the reference it matches.
func Describe() string {
	var b strings.Builder
	for i, l := range Losses {
		d := registry[l]
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s\n", d.Name)
		fmt.Fprintf(&b, "  loss:       %s\n", plain(d.Formula))
		fmt.Fprintf(&b, "  mean:       Σ l / %s\n", plain(d.MeanDivisor))
		fmt.Fprintf(&b, "  weighting:  %s\n", plain(d.WeightingDoc))
		if len(d.Params) > 0 {
			parts := make([]string, len(d.Params))
			for j, p := range d.Params {
				parts[j] = fmt.Sprintf("--%s %g", p, d.Default(p))
			}
			fmt.Fprintf(&b, "  parameters: %s\n", strings.Join(parts, ", "))
		}
		fmt.Fprintf(&b, "  matches:    %s\n", plain(d.Reference))
	}
	return b.String()
}

// plain strips the README's Markdown escapes and code marks.
func plain(s string) string {
	return strings.NewReplacer(`\|`, "|", "`", "").Replace(s)
}

// ClearUnused sets the named parameters that s's loss does not read to 0,
// so they are not recorded for it.
func (s *Spec) ClearUnused(names ...string) {
	d := s.Loss.def()
	for _, n := range names {
		if !d.Uses(n) {
			if p, ok := ParamByName(n); ok {
				p.set(s, 0)
			}
		}
	}
}
