package inject

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// MetadataKey is the metadata_props key under which inject records what it
// attached (JSON of Metadata).
const MetadataKey = "onnxloss"

// NamePrefix starts the name of every node and initializer inject adds.
const NamePrefix = "onnxloss"

// Version is the tool version written into the metadata.
var Version = "0.1.0"

// Options are the loss and the attachment choices of one injection.
type Options struct {
	Loss      lossops.Loss
	Counts    *lossops.Counts
	Weighting lossops.Weighting // "" = the loss's default
	// Weights, when non-nil, are the class weights themselves (--weights);
	// Counts may then be nil unless the loss uses counts.
	Weights []float64
	// ENetC is c of the enet weighting (0: lossops.DefaultENetC).
	ENetC     float64
	Beta      float64
	Normalize bool
	SkipZero  bool
	Gamma     float64
	Alpha     float64
	Reduction lossops.Reduction
	// IgnoreIndex, when non-nil, excludes positions with this label.
	IgnoreIndex    *int64
	LabelSmoothing float64
	MultiHot       bool
	// Tau is τ of logit_adjusted (lossops.DefaultTau on the CLI).
	Tau float64
	// MaxMargin is the largest margin of ldam (lossops.DefaultMaxMargin).
	MaxMargin float64
	// Scale is s of ldam (lossops.DefaultScale).
	Scale float64
	// Epsilon is ε of poly1; Smooth the smoothing of dice. They are
	// recorded only for the losses that read them.
	Epsilon, Smooth float64
	// TverskyBeta is β of tversky (recorded for it only).
	TverskyBeta float64
	// GammaPos, GammaNeg, Clip and DetachFocusing are asl's (recorded
	// for it only).
	GammaPos, GammaNeg, Clip float64
	DetachFocusing           bool
	// SeesawP and SeesawQ are p and q of seesaw (recorded for it only).
	SeesawP, SeesawQ float64
	// Logits names the value to attach to; "" picks the model's single
	// float output of rank ≥ 2.
	Logits string
	// Heads, when it has two or more names, attaches the loss to each of
	// these values (Logits is then unused): each head's loss is an output
	// LossName/<head>, and LossName is their sum weighted by HeadWeights
	// (nil: all 1). Heads whose labels have one shape share one labels
	// input; otherwise each gets LabelsName/<head>.
	Heads       []string
	HeadWeights []float64
	// ClassAxis, when non-nil, is the logits' class axis (negative counts
	// from the end); nil chooses it as ChooseClassAxis describes.
	ClassAxis *int
	// BackgroundLabel, when non-nil, marks positions that are negatives for
	// every class (dense detection; sigmoid losses).
	BackgroundLabel *int64
	LabelsName      string                      // default "labels"
	LabelsElem      onnxpb.TensorProto_DataType // INT64 (default) or INT32
	LossName        string                      // default "loss"
	// Replace allows injecting into a model that already carries an
	// onnxloss loss; the old one is removed first.
	Replace bool
	// KeepLoss keeps the loss a training graph was exported with beside the
	// new one (which then gets LossName) instead of replacing it.
	KeepLoss bool
}

// Metadata is the JSON stored under metadata_props["onnxloss"]: everything
// needed to recompute the loss.
type Metadata struct {
	Tool           string  `json:"tool"`
	Version        string  `json:"version"`
	Loss           string  `json:"loss"`
	Weighting      string  `json:"weighting"`
	Beta           float64 `json:"beta"`
	Normalize      bool    `json:"normalize"`
	ZeroCounts     string  `json:"zero_counts"`
	Gamma          float64 `json:"gamma"`
	Alpha          float64 `json:"alpha"`
	Reduction      string  `json:"reduction"`
	IgnoreIndex    *int64  `json:"ignore_index"`
	LabelSmoothing float64 `json:"label_smoothing"`
	Targets        string  `json:"targets"`
	// Tau, MaxMargin and Scale are recorded for the losses that use them
	// (logit_adjusted; ldam) and left out otherwise.
	Tau       float64 `json:"tau,omitempty"`
	MaxMargin float64 `json:"max_margin,omitempty"`
	Scale     float64 `json:"scale,omitempty"`
	// Epsilon (poly1) and Smooth (dice) likewise.
	Epsilon float64 `json:"epsilon,omitempty"`
	Smooth  float64 `json:"smooth,omitempty"`
	// TverskyBeta is tversky's β.
	TverskyBeta float64 `json:"tversky_beta,omitempty"`
	// GammaPos, GammaNeg, Clip and DetachFocusing are asl's.
	GammaPos       float64 `json:"gamma_pos,omitempty"`
	GammaNeg       float64 `json:"gamma_neg,omitempty"`
	Clip           float64 `json:"clip,omitempty"`
	DetachFocusing bool    `json:"detach_focusing,omitempty"`
	// SeesawP and SeesawQ are seesaw's p and q.
	SeesawP float64   `json:"seesaw_p,omitempty"`
	SeesawQ float64   `json:"seesaw_q,omitempty"`
	Counts  []float64 `json:"counts"`
	Classes []string  `json:"classes,omitempty"`
	// CountsOrigin is what the counts file recorded about where the counts
	// came from (onnxloss counts writes it), when it did.
	CountsOrigin *lossops.CountsOrigin `json:"counts_origin,omitempty"`
	// ENetC is c of the enet weighting, recorded when it is used.
	ENetC   float64   `json:"enet_c,omitempty"`
	Weights []float64 `json:"weights"`
	// Weighted is false when the loss carries no class weights at all
	// (weighting none); Weights then holds ones.
	Weighted    bool   `json:"weighted"`
	NumClasses  int    `json:"num_classes"`
	Logits      string `json:"logits"`
	LogitsDType string `json:"logits_dtype"`
	LogitsRank  int    `json:"logits_rank"`
	// ClassAxis is the logits' class axis in [0, rank); nil in metadata
	// written before it was recorded, which means axis 1.
	ClassAxis *int `json:"class_axis"`
	// BackgroundLabel is the label of all-negative positions, if any.
	BackgroundLabel *int64 `json:"background_label,omitempty"`
	Labels          string `json:"labels"`
	LabelsDType     string `json:"labels_dtype"`
	LossOutput      string `json:"loss_output"`
	Opset           int64  `json:"opset"`
	// Replaced describes the training graph's own loss that this one
	// replaced (or kept beside, with KeepLoss); nil for plain injection.
	Replaced *graphedit.Loss `json:"replaced,omitempty"`
	// Heads lists the heads when the loss is attached to several; the
	// fields above then describe the first head, and LossOutput is the
	// weighted sum of the heads' losses.
	Heads []Head `json:"heads,omitempty"`
}

// Head is one head of a several-head injection.
type Head struct {
	// Name is the head as given to --logits (the value name before any
	// Softmax/Sigmoid was stepped over).
	Name        string  `json:"name"`
	Logits      string  `json:"logits"`
	LogitsDType string  `json:"logits_dtype"`
	LogitsRank  int     `json:"logits_rank"`
	ClassAxis   int     `json:"class_axis"`
	Labels      string  `json:"labels"`
	LossOutput  string  `json:"loss_output"`
	Weight      float64 `json:"weight"`
}

// Axis returns the class axis the metadata records (1 when not recorded).
func (md *Metadata) Axis() int {
	if md.ClassAxis == nil {
		return 1
	}
	return *md.ClassAxis
}

// HeadSpec returns the lossops.Spec of head h (its class axis).
func (md *Metadata) HeadSpec(h Head) lossops.Spec {
	s := md.Spec()
	s.ClassAxis = classAxisField(h.ClassAxis, h.LogitsRank)
	return s
}

// classAxisField turns a class axis in [0, rank) into lossops.Spec's
// ClassAxis (where 0 means axis 1 and axis 0 is written as −rank).
func classAxisField(axis, rank int) int {
	if axis == 0 {
		return -rank
	}
	return axis
}

// HeadAxis is the class axis chosen for one head, for stderr.
type HeadAxis struct {
	Logits string
	Rank   int
	Axis   int
	Reason string
}

// site returns the lossops.Site of logits of type vt (names not filled in).
func site(vt graphedit.ValueType) lossops.Site {
	return lossops.Site{LogitsElem: vt.Elem, Rank: vt.Rank(), C: 0}
}

// Spec returns the lossops.Spec the metadata describes.
func (md *Metadata) Spec() lossops.Spec {
	s := lossops.Spec{
		Loss: lossops.Loss(md.Loss), Gamma: md.Gamma, Alpha: md.Alpha,
		Reduction: lossops.Reduction(md.Reduction), IgnoreIndex: md.IgnoreIndex,
		LabelSmoothing: md.LabelSmoothing, MultiHot: md.Targets == "multi-hot",
		Counts: md.Counts, SkipZero: md.ZeroCounts == "skip", Tau: md.Tau, MaxMargin: md.MaxMargin, Scale: md.Scale,
		Epsilon: md.Epsilon, Smooth: md.Smooth, TverskyBeta: md.TverskyBeta,
		GammaPos: md.GammaPos, GammaNeg: md.GammaNeg, Clip: md.Clip, DetachFocusing: md.DetachFocusing,
		SeesawP: md.SeesawP, SeesawQ: md.SeesawQ,
		ClassAxis: classAxisField(md.Axis(), md.LogitsRank), BackgroundLabel: md.BackgroundLabel,
	}
	if md.Weighted {
		s.Weights = md.Weights
	}
	return s
}

// ReadMetadata returns the model's onnxloss metadata, or ok=false if it has none.
func ReadMetadata(m *graphedit.Model) (md *Metadata, ok bool, err error) {
	raw, ok := m.Metadata(MetadataKey)
	if !ok {
		return nil, false, nil
	}
	md = &Metadata{}
	if err := json.Unmarshal([]byte(raw), md); err != nil {
		return nil, true, fmt.Errorf("metadata_props[%q] is not valid onnxloss metadata: %w", MetadataKey, err)
	}
	return md, true, nil
}

// Result describes what an injection did, for the summary on stderr.
type Result struct {
	Metadata *Metadata
	// Notes are remarks for the user (e.g. attached before a Softmax).
	Notes []string
	// Axes says, per head, which class axis was taken and why.
	Axes []HeadAxis
}

// Inject attaches the loss described by opt to m in place. In a training
// graph (one exported with its own SoftmaxCrossEntropyLoss or LogSoftmax +
// NegativeLogLikelihoodLoss, and no --logits given) the new loss replaces
// that one under its output name, taking its scores and labels, and its
// ignore_index and reduction unless opt sets them. On error m may be partly
// edited and must be discarded.
func Inject(m *graphedit.Model, opt Options) (*Result, error) {
	res := &Result{}
	if opt.LabelsName == "" {
		opt.LabelsName = "labels"
	}
	if opt.LossName == "" {
		opt.LossName = "loss"
	}
	if opt.LabelsElem == 0 {
		opt.LabelsElem = onnxpb.TensorProto_INT64
	}
	if opt.Counts == nil && opt.Weights == nil && !NeedsCounts(opt.Loss, opt.Weighting) && !opt.SkipZero {
		counts, note, err := countsFromModel(m, opt)
		if err != nil {
			return nil, err
		}
		opt.Counts = counts
		res.Notes = append(res.Notes, note)
	}
	if opt.Counts == nil || len(opt.Counts.Values) == 0 {
		if opt.Weights == nil || opt.Loss.FromCounts() {
			return nil, fmt.Errorf("no class counts given: pass --counts FILE")
		}
		opt.Counts = &lossops.Counts{} // the weights alone fix C
	}
	opset := m.DefaultDomainOpset()
	if opset < 11 {
		return nil, fmt.Errorf("the model imports default-domain opset %d: onnxloss needs opset 11 or newer (re-export with opset_version >= 11)", opset)
	}
	var prior *graphedit.Loss // a training loss a previous injection replaced in place
	if old, ok, err := ReadMetadata(m); ok {
		if !opt.Replace {
			return nil, fmt.Errorf("the model already has an onnxloss loss (%s): pass --replace to swap it, or start from the original model", lossName(old))
		}
		if err != nil {
			return nil, err
		}
		prior = removeInjected(m, old)
		res.Notes = append(res.Notes, fmt.Sprintf("replaced the previous %s loss", old.Loss))
	}

	existing, err := trainingLoss(m, opt)
	if err != nil {
		return nil, err
	}
	if existing == nil && prior != nil && opt.Logits == "" {
		// The previous injection had replaced the training graph's loss.
		existing = prior
	}
	if existing != nil {
		res.Notes = append(res.Notes, carryOver(existing, &opt)...)
	}
	if opt.Reduction == "" {
		opt.Reduction = lossops.Mean
	}

	weighting := opt.Weighting
	if weighting == "" {
		weighting = lossops.DefaultWeighting(opt.Loss)
	}
	if opt.Weights != nil {
		weighting = lossops.WeightGiven
	}
	spec := lossops.Spec{
		Loss: opt.Loss, Gamma: opt.Gamma, Alpha: opt.Alpha, Reduction: opt.Reduction,
		IgnoreIndex: opt.IgnoreIndex, LabelSmoothing: opt.LabelSmoothing, MultiHot: opt.MultiHot,
		BackgroundLabel: opt.BackgroundLabel, Epsilon: opt.Epsilon, Smooth: opt.Smooth,
		TverskyBeta: opt.TverskyBeta,
		GammaPos:    opt.GammaPos, GammaNeg: opt.GammaNeg, Clip: opt.Clip, DetachFocusing: opt.DetachFocusing,
	}
	spec.SeesawP, spec.SeesawQ = opt.SeesawP, opt.SeesawQ
	spec.ClearUnused("epsilon", "smooth", "tversky-beta", "gamma-pos", "gamma-neg", "clip", "seesaw-p", "seesaw-q")
	if opt.Loss.FromCounts() {
		spec.Counts, spec.SkipZero = opt.Counts.Values, opt.SkipZero
		spec.Tau, spec.MaxMargin, spec.Scale = opt.Tau, opt.MaxMargin, opt.Scale
		if opt.Loss != lossops.LogitAdjusted {
			spec.Tau = 0
		}
		if opt.Loss != lossops.LDAM {
			spec.MaxMargin, spec.Scale = 0, 0
		}
		if !opt.Loss.TakesWeights() && weighting != lossops.WeightNone {
			return nil, fmt.Errorf("%s takes no class weights (the counts enter as logit offsets): drop --weighting %s", opt.Loss, weighting)
		}
		// Offsets/margins first, so a zero count is reported as such.
		if _, err := spec.Adjustments(opt.Counts.Classes); err != nil {
			return nil, err
		}
	}
	if d := lossops.Lookup(opt.Loss); d != nil && d.UsesCounts {
		// The loss reads the counts itself (seesaw's mitigation factor).
		spec.Counts = opt.Counts.Values
		if !opt.Loss.TakesWeights() && weighting != lossops.WeightNone {
			return nil, fmt.Errorf("%s takes no class weights (it weighs classes by the counts itself): drop --weighting %s", opt.Loss, weighting)
		}
	}
	cfg := lossops.WeightConfig{Scheme: weighting, Beta: opt.Beta, Normalize: opt.Normalize, SkipZero: opt.SkipZero, ENetC: opt.ENetC, Given: opt.Weights}
	weights, err := opt.Counts.ClassWeights(cfg)
	if err != nil {
		return nil, err
	}
	if (weighting != lossops.WeightNone || opt.SkipZero) && opt.Loss.TakesWeights() {
		spec.Weights = weights
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}

	heads := opt.Heads
	if len(heads) == 0 {
		heads = []string{opt.Logits}
	}
	multi := len(heads) > 1
	if multi {
		if existing != nil {
			return nil, fmt.Errorf("several heads (--logits %s) cannot replace a training graph's own loss: attach to one head, or drop the exported loss first", strings.Join(heads, ","))
		}
		if spec.Reduction == lossops.None {
			return nil, fmt.Errorf("--reduction none gives per-position losses that are not summed across heads: use mean, sum or foreground with several heads")
		}
		seen := map[string]bool{}
		for _, h := range heads {
			if h == "" {
				return nil, fmt.Errorf("--logits %s names an empty head: give the value names separated by commas", strings.Join(heads, ","))
			}
			if seen[h] {
				return nil, fmt.Errorf("--logits names head %q twice: give each head once", h)
			}
			seen[h] = true
		}
	}
	headWeights := opt.HeadWeights
	if headWeights == nil {
		headWeights = make([]float64, len(heads))
		for i := range headWeights {
			headWeights[i] = 1
		}
	}
	if len(headWeights) != len(heads) {
		return nil, fmt.Errorf("%d head weights for %d heads (--logits %s): give one weight per head", len(headWeights), len(heads), strings.Join(heads, ","))
	}
	for i, w := range headWeights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("head weight %v of %q is invalid: use a finite number", w, heads[i])
		}
	}

	// Find each head's logits, its class axis and its labels' type.
	type head struct {
		name, logits string
		vt           graphedit.ValueType
		axis         ClassAxis
		labels       graphedit.ValueType
	}
	C := len(weights) // = len(opt.Counts.Values) when counts are given
	hs := make([]head, len(heads))
	for i, name := range heads {
		h := &hs[i]
		h.name = name
		var softmax *onnxpb.NodeProto
		if existing != nil {
			h.logits = existing.Scores
		} else {
			if h.logits, err = findLogits(m, name); err != nil {
				return nil, err
			}
			var note string
			if h.logits, note, softmax, err = beforeActivation(m, h.logits); err != nil {
				return nil, err
			}
			if note != "" {
				res.Notes = append(res.Notes, note)
			}
		}
		if !multi && h.name == "" {
			h.name = h.logits
		}
		vt, ok := m.InferType(h.logits)
		if !ok {
			return nil, fmt.Errorf("the type and shape of logits %q are not declared in the model: pass a graph output or a value with value_info as --logits", h.logits)
		}
		if !graphedit.IsFloat(vt.Elem) {
			return nil, fmt.Errorf("logits %q are %s: need float, double, float16 or bfloat16 scores", h.logits, elemName(vt.Elem))
		}
		if vt.Rank() < 2 {
			return nil, fmt.Errorf("logits %q have rank %d: need a batch axis and a class axis, rank >= 2", h.logits, vt.Rank())
		}
		h.vt = vt
		if existing != nil {
			// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss take
			// their classes on axis 1.
			if opt.ClassAxis != nil {
				if a := *opt.ClassAxis; a != 1 && a != 1-vt.Rank() {
					return nil, fmt.Errorf("the training graph's %s takes its classes on axis 1, not --class-axis %d: drop --class-axis, or pass --logits to attach elsewhere", existing.Kind, a)
				}
			}
			one := 1
			h.axis, err = ChooseClassAxis(h.logits, vt, C, &one)
			h.axis.Reason = "the axis of the training graph's " + existing.Kind
		} else {
			h.axis, err = ChooseClassAxis(h.logits, vt, C, opt.ClassAxis)
		}
		if err != nil {
			return nil, err
		}
		if softmax != nil {
			a := m.SoftmaxAxis(softmax, vt.Rank())
			if a != int64(h.axis.Axis) || (m.DefaultDomainOpset() < 13 && h.axis.Axis != vt.Rank()-1) {
				return nil, fmt.Errorf("%q comes from Softmax node %q over axis %d, not the class axis %d: pass the scores as --logits", h.logits, softmax.GetName(), a, h.axis.Axis)
			}
		}
		if opt.MultiHot {
			h.labels = graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: vt.Shape}
		} else {
			h.labels = graphedit.ValueType{Elem: opt.LabelsElem, Shape: withoutAxis(vt.Shape, h.axis.Axis)}
		}
	}
	if multi {
		for _, h := range hs[1:] {
			if site(h.vt).ComputeElem() != site(hs[0].vt).ComputeElem() {
				return nil, fmt.Errorf("heads %q (%s) and %q (%s) compute their losses in different types: give heads of one float type", hs[0].name, elemName(hs[0].vt.Elem), h.name, elemName(h.vt.Elem))
			}
		}
	}

	// The labels: the training graph's target input, or a new input with the
	// logits' shape without the class axis (multi-hot: the logits' shape),
	// symbolic dims copied. Heads whose labels have one shape share one input.
	labelsName, lossOutput := opt.LabelsName, opt.LossName
	shared := true
	for _, h := range hs[1:] {
		if !slices.Equal(h.labels.Shape, hs[0].labels.Shape) {
			shared = false
		}
	}
	labelNames := make([]string, len(hs))
	if existing != nil {
		labelsName = existing.Labels
		lt, ok := m.ValueType(labelsName)
		if !ok {
			return nil, fmt.Errorf("the type of the labels %q of %s is not declared", labelsName, existing.Kind)
		}
		hs[0].labels = lt
		labelNames[0] = labelsName
		if !opt.KeepLoss {
			lossOutput = existing.Output
			removeLoss(m, *existing)
		}
	} else {
		if !opt.MultiHot && opt.LabelsElem != onnxpb.TensorProto_INT64 && opt.LabelsElem != onnxpb.TensorProto_INT32 {
			return nil, fmt.Errorf("labels dtype %s is not supported: use int64 or int32", elemName(opt.LabelsElem))
		}
		for i, h := range hs {
			labelNames[i] = labelsName
			if !shared {
				labelNames[i] = labelsName + "/" + h.name
			}
			if (shared && i > 0) || !m.HasName(labelNames[i]) {
				continue
			}
			return nil, fmt.Errorf("the graph already has a value named %q: choose another with --labels-name", labelNames[i])
		}
	}
	replacing := existing != nil && !opt.KeepLoss
	if !replacing && m.HasName(lossOutput) {
		return nil, fmt.Errorf("the graph already has a value named %q: choose another with --loss-name", lossOutput)
	}
	headOutputs := make([]string, len(hs))
	headOutputs[0] = lossOutput
	if multi {
		for i, h := range hs {
			headOutputs[i] = lossOutput + "/" + h.name
			if m.HasName(headOutputs[i]) {
				return nil, fmt.Errorf("the graph already has a value named %q: choose another --loss-name", headOutputs[i])
			}
		}
	}
	for i := range hs {
		if labelNames[i] == lossOutput || labelNames[i] == headOutputs[i] {
			return nil, fmt.Errorf("labels and loss are both named %q: give them different names", labelNames[i])
		}
	}
	if existing == nil {
		for i, h := range hs {
			if !shared || i == 0 {
				m.AddInput(graphedit.TensorValueInfo(labelNames[i], h.labels), -1)
			}
		}
	}

	b := graphedit.NewBuilder(m, NamePrefix)
	lossValues := make([]string, len(hs))
	for i, h := range hs {
		hspec := spec
		hspec.ClassAxis = classAxisField(h.axis.Axis, h.vt.Rank())
		st := site(h.vt)
		st.Logits, st.Labels, st.LabelsElem, st.C = h.logits, labelNames[i], h.labels.Elem, C
		if lossValues[i], err = lossops.Build(b, hspec, st); err != nil {
			return nil, err
		}
	}
	computeElem := site(hs[0].vt).ComputeElem()
	lossType := graphedit.ValueType{Elem: computeElem, Shape: []graphedit.Dim{}}
	if spec.Reduction == lossops.None {
		lossType.Shape = hs[0].labels.Shape
		if opt.MultiHot {
			lossType.Shape = withoutAxis(hs[0].vt.Shape, hs[0].axis.Axis)
		}
		if spec.Loss == lossops.SigmoidFocal {
			lossType.Shape = hs[0].vt.Shape
		}
	}
	if multi {
		total := ""
		for i := range hs {
			renameOutput(m, lossValues[i], headOutputs[i])
			term := headOutputs[i]
			if headWeights[i] != 1 {
				term = b.Op("Mul", "weighted_head_loss", []string{term, b.Scalar("head_weight", computeElem, headWeights[i])})
			}
			if total == "" {
				total = term
			} else {
				total = b.Op("Add", "total_loss", []string{total, term})
			}
		}
		if total == headOutputs[0] {
			total = b.Op("Identity", "total_loss", []string{total})
		}
		renameOutput(m, total, lossOutput)
		for i := len(hs) - 1; i >= 0; i-- {
			m.AddOutput(graphedit.TensorValueInfo(headOutputs[i], lossType), 0)
		}
		m.AddOutput(graphedit.TensorValueInfo(lossOutput, lossType), 0)
	} else {
		renameOutput(m, lossValues[0], lossOutput)
		if replacing {
			setOutputType(m, lossOutput, lossType)
			if existing.LogProb != "" && (m.IsGraphOutput(existing.LogProb) || len(m.Consumers(existing.LogProb)) > 0) {
				renameOutput(m, b.LogSoftmax("log_prob", hs[0].logits, 1, hs[0].vt.Rank()), existing.LogProb)
			}
		} else {
			m.AddOutput(graphedit.TensorValueInfo(lossOutput, lossType), 0)
		}
	}

	h0 := hs[0]
	axis0 := h0.axis.Axis
	md := &Metadata{
		Tool: "onnxloss", Version: Version, Loss: string(opt.Loss), Weighting: string(weighting),
		Beta: opt.Beta, Normalize: opt.Normalize, ZeroCounts: "error", Gamma: opt.Gamma, Alpha: opt.Alpha,
		Reduction: string(opt.Reduction), IgnoreIndex: opt.IgnoreIndex, LabelSmoothing: opt.LabelSmoothing,
		Targets: "index", Tau: spec.Tau, MaxMargin: spec.MaxMargin, Scale: spec.Scale, Epsilon: spec.Epsilon, Smooth: spec.Smooth, TverskyBeta: spec.TverskyBeta,
		GammaPos: spec.GammaPos, GammaNeg: spec.GammaNeg, Clip: spec.Clip, DetachFocusing: spec.DetachFocusing,
		SeesawP: spec.SeesawP, SeesawQ: spec.SeesawQ, Counts: opt.Counts.Values, Classes: opt.Counts.Classes, Weights: weights,
		Weighted: spec.Weights != nil, NumClasses: C, Logits: h0.logits, LogitsDType: elemName(h0.vt.Elem),
		LogitsRank: h0.vt.Rank(), ClassAxis: &axis0, BackgroundLabel: opt.BackgroundLabel, Labels: labelNames[0], LabelsDType: elemName(h0.labels.Elem),
		LossOutput: lossOutput, Opset: opset, Replaced: existing, CountsOrigin: opt.Counts.Origin,
	}
	if weighting == lossops.WeightENet {
		md.ENetC = cfg.ENetC
		if md.ENetC == 0 {
			md.ENetC = lossops.DefaultENetC
		}
	}
	if multi {
		for i, h := range hs {
			md.Heads = append(md.Heads, Head{Name: h.name, Logits: h.logits, LogitsDType: elemName(h.vt.Elem), LogitsRank: h.vt.Rank(),
				ClassAxis: h.axis.Axis, Labels: labelNames[i], LossOutput: headOutputs[i], Weight: headWeights[i]})
		}
	}
	for _, h := range hs {
		res.Axes = append(res.Axes, HeadAxis{Logits: h.logits, Rank: h.vt.Rank(), Axis: h.axis.Axis, Reason: h.axis.Reason})
	}
	if opt.SkipZero {
		md.ZeroCounts = "skip"
	}
	if opt.MultiHot {
		md.Targets = "multi-hot"
	}
	raw, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encoding metadata: %w", err)
	}
	m.SetMetadata(MetadataKey, string(raw))
	res.Metadata = md
	return res, nil
}

// trainingLoss returns the loss the graph was exported with, nil when it has
// none or the user chose the logits, or an error when it is ambiguous.
func trainingLoss(m *graphedit.Model, opt Options) (*graphedit.Loss, error) {
	if opt.Logits != "" {
		return nil, nil
	}
	losses := m.Losses()
	switch len(losses) {
	case 0:
		return nil, nil
	case 1:
	default:
		var names []string
		for _, l := range losses {
			names = append(names, fmt.Sprintf("%s %q", l.Kind, strings.Join(l.Nodes, "+")))
		}
		return nil, fmt.Errorf("the graph has %d loss nodes (%s): pass --logits NAME to choose the scores to attach to", len(losses), strings.Join(names, ", "))
	}
	l := losses[0]
	if opt.MultiHot {
		return nil, fmt.Errorf("%s %q takes index labels, not multi-hot targets: drop --targets multi-hot, or pass --logits to attach beside it", l.Kind, l.Nodes[len(l.Nodes)-1])
	}
	if ls := l.LogSoftmax; ls != nil {
		vt, ok := m.InferType(l.Scores)
		if !ok || !m.SoftmaxOverClassAxis(ls, vt.Rank()) {
			return nil, fmt.Errorf("the scores %q of %s %q are not class-axis-1 logits (LogSoftmax %q over axis %d): pass --logits NAME", l.Scores, l.Kind, strings.Join(l.Nodes, "+"), ls.GetName(), m.SoftmaxAxis(ls, vt.Rank()))
		}
	}
	if vt, ok := m.InferType(l.Scores); ok && vt.Rank() >= 0 && vt.Rank() < 2 {
		return nil, fmt.Errorf("the scores %q of %s %q have rank %d, not (N, C, ...) logits: pass --logits NAME", l.Scores, l.Kind, strings.Join(l.Nodes, "+"), vt.Rank())
	}
	switch l.Reduction {
	case "mean", "sum", "none":
	default:
		return nil, fmt.Errorf("%s %q has reduction %q: pass --reduction", l.Kind, strings.Join(l.Nodes, "+"), l.Reduction)
	}
	return &l, nil
}

// carryOver fills the reduction and ignore_index the user did not set from
// the replaced loss and says what it took.
func carryOver(l *graphedit.Loss, opt *Options) []string {
	notes := []string{"training graph: " + l.String()}
	if opt.Reduction == "" {
		opt.Reduction = lossops.Reduction(l.Reduction)
		notes = append(notes, fmt.Sprintf("reduction %s carried over from %s (--reduction overrides)", l.Reduction, l.Kind))
	}
	if opt.IgnoreIndex == nil && l.IgnoreIndex != nil {
		v := *l.IgnoreIndex
		opt.IgnoreIndex = &v
		notes = append(notes, fmt.Sprintf("ignore_index %d carried over from %s (--ignore-index overrides)", v, l.Kind))
	}
	if opt.KeepLoss {
		notes = append(notes, fmt.Sprintf("kept the old loss %q; the new one is %q", l.Output, opt.LossName))
	} else {
		notes = append(notes, fmt.Sprintf("replaced it: the new loss is %q, at the old output's place", l.Output))
	}
	return notes
}

// setOutputType replaces the declared type of graph output name.
func setOutputType(m *graphedit.Model, name string, vt graphedit.ValueType) {
	for i, o := range m.Graph().GetOutput() {
		if o.GetName() == name {
			m.Graph().Output[i] = graphedit.TensorValueInfo(name, vt)
		}
	}
}

func lossName(md *Metadata) string {
	if md == nil {
		return "unknown"
	}
	return md.Loss
}

// beforeActivation moves from a Softmax/Sigmoid output (probabilities) to
// its input (logits). A softmax over an axis other than the class axis is an
// error.
// The Softmax node is returned so the caller can check its axis against the
// class axis.
func beforeActivation(m *graphedit.Model, value string) (string, string, *onnxpb.NodeProto, error) {
	p := m.Producer(value)
	if p == nil {
		return value, "", nil, nil
	}
	switch p.GetOpType() {
	case "Softmax":
		if _, ok := m.InferType(value); !ok {
			return "", "", nil, fmt.Errorf("%q comes from Softmax node %q but its rank is unknown: pass the Softmax input as --logits", value, p.GetName())
		}
		return p.GetInput()[0], fmt.Sprintf("%q is the output of Softmax node %q (probabilities): attached to its input %q, the logits", value, p.GetName(), p.GetInput()[0]), p, nil
	case "Sigmoid":
		return p.GetInput()[0], fmt.Sprintf("%q is the output of Sigmoid node %q (probabilities): attached to its input %q, the logits", value, p.GetName(), p.GetInput()[0]), nil, nil
	}
	return value, "", nil, nil
}

// renameOutput renames the value produced by the last node that outputs
// from to to.
func renameOutput(m *graphedit.Model, from, to string) {
	nodes := m.Graph().GetNode()
	for i := len(nodes) - 1; i >= 0; i-- {
		for j, o := range nodes[i].Output {
			if o == from {
				nodes[i].Output[j] = to
				m.ResetNames()
				return
			}
		}
	}
}

// removeInjected deletes everything a previous injection added: nodes and
// initializers under NamePrefix, the labels input and the loss output it
// created, and the metadata entry. When that injection had replaced a
// training graph's own loss in place, the labels input and the loss output
// belong to the graph and stay; the replaced loss is returned so that the
// new loss can take its place again.
func removeInjected(m *graphedit.Model, md *Metadata) (inPlace *graphedit.Loss) {
	g := m.Graph()
	prefix := NamePrefix + "/"
	nodes := g.Node[:0]
	for _, n := range g.Node {
		if !strings.HasPrefix(n.GetName(), prefix) {
			nodes = append(nodes, n)
		}
	}
	g.Node = nodes
	inits := g.Initializer[:0]
	for _, t := range g.Initializer {
		if !strings.HasPrefix(t.GetName(), prefix) {
			inits = append(inits, t)
		}
	}
	g.Initializer = inits
	ownLabels, ownOutput := true, true
	if r := md.Replaced; r != nil {
		ownLabels = false
		if r.Output == md.LossOutput {
			ownOutput = false
			inPlace = r
			inPlace.NodeProtos, inPlace.LogSoftmax = nil, nil // already gone
		}
	}
	inputs := g.Input[:0]
	for _, vi := range g.Input {
		if !ownLabels || vi.GetName() != md.Labels {
			inputs = append(inputs, vi)
		}
	}
	g.Input = inputs
	outputs := g.Output[:0]
	for _, vi := range g.Output {
		if !ownOutput || vi.GetName() != md.LossOutput {
			outputs = append(outputs, vi)
		}
	}
	g.Output = outputs
	props := m.Proto.MetadataProps[:0]
	for _, kv := range m.Proto.MetadataProps {
		if kv.GetKey() != MetadataKey {
			props = append(props, kv)
		}
	}
	m.Proto.MetadataProps = props
	m.ResetNames()
	return inPlace
}

// elemName returns the short lower-case name of an element type.
func elemName(e onnxpb.TensorProto_DataType) string { return graphedit.ElemName(e) }
