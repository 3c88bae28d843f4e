package inject

import (
	"encoding/json"
	"fmt"
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
	// Logits names the value to attach to; "" picks the model's single
	// float output of rank ≥ 2.
	Logits     string
	LabelsName string                      // default "labels"
	LabelsElem onnxpb.TensorProto_DataType // INT64 (default) or INT32
	LossName   string                      // default "loss"
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
	Tau       float64   `json:"tau,omitempty"`
	MaxMargin float64   `json:"max_margin,omitempty"`
	Scale     float64   `json:"scale,omitempty"`
	Counts    []float64 `json:"counts"`
	Classes   []string  `json:"classes,omitempty"`
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
	Labels      string `json:"labels"`
	LabelsDType string `json:"labels_dtype"`
	LossOutput  string `json:"loss_output"`
	Opset       int64  `json:"opset"`
	// Replaced describes the training graph's own loss that this one
	// replaced (or kept beside, with KeepLoss); nil for plain injection.
	Replaced *graphedit.Loss `json:"replaced,omitempty"`
}

// Spec returns the lossops.Spec the metadata describes.
func (md *Metadata) Spec() lossops.Spec {
	s := lossops.Spec{
		Loss: lossops.Loss(md.Loss), Gamma: md.Gamma, Alpha: md.Alpha,
		Reduction: lossops.Reduction(md.Reduction), IgnoreIndex: md.IgnoreIndex,
		LabelSmoothing: md.LabelSmoothing, MultiHot: md.Targets == "multi-hot",
		Counts: md.Counts, SkipZero: md.ZeroCounts == "skip", Tau: md.Tau, MaxMargin: md.MaxMargin, Scale: md.Scale,
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
	}
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

	var logits string
	if existing != nil {
		logits = existing.Scores
	} else {
		if logits, err = findLogits(m, opt.Logits); err != nil {
			return nil, err
		}
		var note string
		if logits, note, err = beforeActivation(m, logits); err != nil {
			return nil, err
		}
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
	}
	vt, ok := m.InferType(logits)
	if !ok {
		return nil, fmt.Errorf("the type and shape of logits %q are not declared in the model: pass a graph output or a value with value_info as --logits", logits)
	}
	if !graphedit.IsFloat(vt.Elem) {
		return nil, fmt.Errorf("logits %q are %s: need float, double, float16 or bfloat16 scores", logits, elemName(vt.Elem))
	}
	if vt.Rank() < 2 {
		return nil, fmt.Errorf("logits %q have rank %d: need (N, C, ...) with the class axis 1, rank >= 2", logits, vt.Rank())
	}
	C := len(weights) // = len(opt.Counts.Values) when counts are given
	if d := vt.Shape[1]; d.Static() && d.Value != int64(C) {
		return nil, fmt.Errorf("logits %q have %d classes (dim 1) but the counts give %d: pass counts for %d classes", logits, d.Value, C, d.Value)
	}

	// The labels: the training graph's target input, or a new input with the
	// logits' shape without the class axis (multi-hot: the logits' shape),
	// symbolic dims copied.
	labelsName, lossOutput := opt.LabelsName, opt.LossName
	labelsType := graphedit.ValueType{Elem: opt.LabelsElem}
	if existing != nil {
		labelsName = existing.Labels
		lt, ok := m.ValueType(labelsName)
		if !ok {
			return nil, fmt.Errorf("the type of the labels %q of %s is not declared", labelsName, existing.Kind)
		}
		labelsType = lt
		if !opt.KeepLoss {
			lossOutput = existing.Output
			removeLoss(m, *existing)
		}
	} else {
		if opt.MultiHot {
			labelsType = graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: vt.Shape}
		} else {
			if opt.LabelsElem != onnxpb.TensorProto_INT64 && opt.LabelsElem != onnxpb.TensorProto_INT32 {
				return nil, fmt.Errorf("labels dtype %s is not supported: use int64 or int32", elemName(opt.LabelsElem))
			}
			labelsType.Shape = append([]graphedit.Dim{vt.Shape[0]}, vt.Shape[2:]...)
		}
		if m.HasName(labelsName) {
			return nil, fmt.Errorf("the graph already has a value named %q: choose another with --labels-name", labelsName)
		}
	}
	replacing := existing != nil && !opt.KeepLoss
	if !replacing && m.HasName(lossOutput) {
		return nil, fmt.Errorf("the graph already has a value named %q: choose another with --loss-name", lossOutput)
	}
	if labelsName == lossOutput {
		return nil, fmt.Errorf("labels and loss are both named %q: give them different names", lossOutput)
	}
	if existing == nil {
		m.AddInput(graphedit.TensorValueInfo(labelsName, labelsType), -1)
	}

	b := graphedit.NewBuilder(m, NamePrefix)
	site := lossops.Site{Logits: logits, LogitsElem: vt.Elem, Rank: vt.Rank(), C: C, Labels: labelsName, LabelsElem: labelsType.Elem}
	lossValue, err := lossops.Build(b, spec, site)
	if err != nil {
		return nil, err
	}
	renameOutput(m, lossValue, lossOutput)

	lossType := graphedit.ValueType{Elem: site.ComputeElem(), Shape: []graphedit.Dim{}}
	if spec.Reduction == lossops.None {
		perPosition := append([]graphedit.Dim{vt.Shape[0]}, vt.Shape[2:]...)
		lossType.Shape = perPosition
		if spec.Loss == lossops.SigmoidFocal {
			lossType.Shape = vt.Shape
		}
	}
	if replacing {
		setOutputType(m, lossOutput, lossType)
		if existing.LogProb != "" && (m.IsGraphOutput(existing.LogProb) || len(m.Consumers(existing.LogProb)) > 0) {
			renameOutput(m, b.LogSoftmax("log_prob", logits, 1, vt.Rank()), existing.LogProb)
		}
	} else {
		m.AddOutput(graphedit.TensorValueInfo(lossOutput, lossType), 0)
	}

	md := &Metadata{
		Tool: "onnxloss", Version: Version, Loss: string(opt.Loss), Weighting: string(weighting),
		Beta: opt.Beta, Normalize: opt.Normalize, ZeroCounts: "error", Gamma: opt.Gamma, Alpha: opt.Alpha,
		Reduction: string(opt.Reduction), IgnoreIndex: opt.IgnoreIndex, LabelSmoothing: opt.LabelSmoothing,
		Targets: "index", Tau: spec.Tau, MaxMargin: spec.MaxMargin, Scale: spec.Scale, Counts: opt.Counts.Values, Classes: opt.Counts.Classes, Weights: weights,
		Weighted: spec.Weights != nil, NumClasses: C, Logits: logits, LogitsDType: elemName(vt.Elem),
		LogitsRank: vt.Rank(), Labels: labelsName, LabelsDType: elemName(labelsType.Elem),
		LossOutput: lossOutput, Opset: opset, Replaced: existing, CountsOrigin: opt.Counts.Origin,
	}
	if weighting == lossops.WeightENet {
		md.ENetC = cfg.ENetC
		if md.ENetC == 0 {
			md.ENetC = lossops.DefaultENetC
		}
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
func beforeActivation(m *graphedit.Model, value string) (string, string, error) {
	p := m.Producer(value)
	if p == nil {
		return value, "", nil
	}
	switch p.GetOpType() {
	case "Softmax":
		vt, ok := m.InferType(value)
		if !ok {
			return "", "", fmt.Errorf("%q comes from Softmax node %q but its rank is unknown: pass the Softmax input as --logits", value, p.GetName())
		}
		if !m.SoftmaxOverClassAxis(p, vt.Rank()) {
			return "", "", fmt.Errorf("%q comes from Softmax node %q over axis %d, not the class axis 1: pass the scores as --logits", value, p.GetName(), m.SoftmaxAxis(p, vt.Rank()))
		}
		return p.GetInput()[0], fmt.Sprintf("%q is the output of Softmax node %q (probabilities): attached to its input %q, the logits", value, p.GetName(), p.GetInput()[0]), nil
	case "Sigmoid":
		return p.GetInput()[0], fmt.Sprintf("%q is the output of Sigmoid node %q (probabilities): attached to its input %q, the logits", value, p.GetName(), p.GetInput()[0]), nil
	}
	return value, "", nil
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
