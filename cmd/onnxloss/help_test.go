package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/lossops"
)

// helpLine finds a flag's line in `onnxloss CMD --help` and returns what
// it shows as the default: the text of its one "(default: …)", "required"
// for a required flag, or ok false when the line shows neither or more
// than one.
func helpLine(t *testing.T, help, flag string) (shown string, ok bool) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s+--` + regexp.QuoteMeta(flag) + `\b.*$`)
	line := re.FindString(help)
	if line == "" {
		t.Fatalf("--%s is not in the help", flag)
	}
	if n := strings.Count(line, "(default: "); n > 1 || (n == 1) == strings.HasSuffix(line, "(required)") {
		return line, false
	}
	if strings.HasSuffix(line, "(required)") {
		return "required", true
	}
	i := strings.LastIndex(line, "(default: ")
	d := strings.TrimSuffix(line[i+len("(default: "):], ")")
	return strings.Trim(d, `"`), true
}

// outcome is everything a run produces: exit code, stdout, stderr and the
// output file.
type outcome struct {
	code           int
	stdout, stderr string
	file           []byte
}

// TestHelpDefaultsAreTheDefaults checks every flag of every command, read
// from the help of the real binary, so flags and commands added later are
// covered without editing this test (a new command needs a baseline run
// below, or the test fails):
//   - the help shows exactly one default, or "(required)";
//   - a literal default (one word) passed explicitly gives exactly what
//     leaving the flag out gives (exit code, stdout, stderr, output file);
//   - a per-loss default ("W for loss1, loss2; …") does so for each loss;
//   - a numeric flag shown as "none" is not secretly 0: passing 0 changes
//     the outcome (the --ignore-index (default: 0) bug);
//   - a required flag left out is an exit-2 error naming it.
func TestHelpDefaultsAreTheDefaults(t *testing.T) {
	d := t.TempDir()
	counts := writeFile(t, filepath.Join(d, "c.json"), "[500, 120, 7, 40, 3]")
	labels := writeFile(t, filepath.Join(d, "labels.txt"), "0\n1\n1\n4\n2\n")
	mlp := modelPath("mlp_o13.onnx")
	out := filepath.Join(d, "out.onnx")
	injected := filepath.Join(d, "injected.onnx")
	if code, _, e := runBin(t, nil, "inject", "--loss", "focal", "--counts", counts, "-o", injected, mlp); code != 0 {
		t.Fatalf("setup: %s", e)
	}
	// Baselines: runs of each command that succeed with every optional flag
	// left out; inject has one per loss (some flags apply to some losses).
	var injectRuns [][]string
	for _, l := range lossops.Losses {
		injectRuns = append(injectRuns, []string{"inject", "--loss", string(l), "--counts", counts, "-o", out, mlp})
	}
	baselines := map[string][][]string{
		"inject":     injectRuns,
		"weights":    {{"weights", "--counts", counts}},
		"counts":     {{"counts", labels}},
		"inspect":    {{"inspect", mlp}},
		"verify":     {{"verify", injected}},
		"ops":        {{"ops"}},
		"version":    {{"version"}},
		"completion": {{"completion", "bash"}},
		"losses":     {{"losses"}},
		"step": {
			{"step", "--optimizer", "none", "-o", out, injected},
			{"step", "--optimizer", "sgd", "--lr", "0.1", "-o", out, injected},
			{"step", "--optimizer", "adamw", "-o", out, injected},
		},
		// Its only flag is required: the baseline is for leaving it out.
		"load-params": {{"load-params", "-o", out, injected, filepath.Join(d, "none.npz")}},
	}
	runIt := func(args []string) outcome {
		os.Remove(out)
		code, stdout, stderr := runBin(t, nil, args...)
		b, _ := os.ReadFile(out)
		return outcome{code, string(stdout), stderr, b}
	}
	same := func(a, b outcome) bool {
		return a.code == b.code && a.stdout == b.stdout && a.stderr == b.stderr && bytes.Equal(a.file, b.file)
	}
	cache := map[string]outcome{}
	base := func(args []string) outcome {
		k := strings.Join(args, "\x00")
		if o, ok := cache[k]; ok {
			return o
		}
		o := runIt(args)
		cache[k] = o
		return o
	}
	with := func(args []string, extra string) []string {
		return append([]string{args[0], extra}, args[1:]...)
	}
	baselines[""] = [][]string{{"inspect", mlp}} // the global flags
	app := newApp(nil, nil)
	type target struct {
		command string
		flags   []cli.Flag
		help    []string
	}
	targets := []target{{"", app.Flags, []string{"--help"}}}
	for _, c := range app.Commands {
		targets = append(targets, target{c.Name, c.Flags, []string{c.Name, "--help"}})
	}
	checked := 0
	for _, tg := range targets {
		runs, ok := baselines[tg.command]
		if !ok {
			t.Errorf("command %s has no baseline run in this test: add one", tg.command)
			continue
		}
		_, helpOut, _ := runBin(t, nil, tg.help...)
		for _, f := range tg.flags {
			name := f.Names()[0]
			if name == "help" || name == "version" {
				continue
			}
			t.Run(tg.command+"/"+name, func(t *testing.T) {
				shown, ok := helpLine(t, string(helpOut), name)
				if !ok {
					t.Fatalf("help must show exactly one default or (required): %q", shown)
				}
				// Runs of base with the flag added, first success wins.
				// A flag of one weighting (--beta, --enet-c) is tried with
				// each weighting too.
				variants := []string{""}
				if tg.command == "inject" || tg.command == "weights" {
					for _, w := range lossops.Weightings {
						if w != lossops.WeightGiven {
							variants = append(variants, "--weighting="+string(w))
						}
					}
				}
				try := func(value string, keep func(lossops.Loss) bool) (outcome, outcome, bool) {
					for _, v := range variants {
						for i, args := range runs {
							if keep != nil && !keep(lossops.Losses[i]) {
								continue
							}
							if v != "" {
								args = with(args, v)
							}
							b := base(args)
							if b.code != 0 {
								if v != "" {
									continue // a weighting this loss does not take
								}
								t.Fatalf("baseline %v fails: %s", args, b.stderr)
							}
							if o := runIt(with(args, "--"+name+"="+value)); o.code == 0 {
								return b, o, true
							}
						}
					}
					return outcome{}, outcome{}, false
				}
				switch {
				case shown == "required":
					for _, args := range runs[:1] {
						var rest []string
						for i := 0; i < len(args); i++ {
							if args[i] == "--"+name || (len(f.Names()) > 1 && args[i] == "-"+f.Names()[1]) {
								i++
								continue
							}
							rest = append(rest, args[i])
						}
						o := runIt(rest)
						if o.code != 2 || !strings.Contains(o.stderr, name) {
							t.Errorf("without required --%s: exit %d, %q", name, o.code, o.stderr)
						}
					}
				case tg.command == "inject" && isPerLoss(shown):
					for _, part := range strings.Split(shown, "; ") {
						m := perLoss.FindStringSubmatch(part)
						for _, l := range strings.Split(m[2], ", ") {
							b, o, ok := try(m[1], func(x lossops.Loss) bool { return string(x) == l })
							if !ok || !same(b, o) {
								t.Errorf("--loss %s --%s=%s differs from leaving it out", l, name, m[1])
							}
						}
					}
				case !strings.Contains(shown, " ") && shown != "none":
					b, o, ok := try(shown, nil)
					if !ok {
						t.Fatalf("the shown default %q is rejected by every baseline", shown)
					}
					if !same(b, o) {
						t.Errorf("--%s=%s (the shown default) differs from leaving it out:\nabsent: %+v\ngiven:  %+v", name, shown, b, o)
					}
				case strings.HasPrefix(shown, "none"):
					if !isNumeric(f) {
						return
					}
					differs := false
					for _, args := range runs {
						if b, o := base(args), runIt(with(args, "--"+name+"=0")); !same(b, o) {
							differs = true
							break
						}
					}
					if !differs {
						t.Errorf("--%s shows none but --%s=0 is the same as leaving it out: show 0", name, name)
					}
				default:
					t.Logf("--%s: descriptive default %q", name, shown)
				}
			})
			checked++
		}
	}
	t.Logf("%d flags checked", checked)
}

// perLoss is one part of a per-loss default: "inverse for weighted_ce, focal".
var perLoss = regexp.MustCompile(`^(\S+) for (\w+(?:, \w+)*)$`)

// isPerLoss reports whether shown is "W for l1, l2; V for l3".
func isPerLoss(shown string) bool {
	for _, part := range strings.Split(shown, "; ") {
		if !perLoss.MatchString(part) {
			return false
		}
	}
	return true
}

func isNumeric(f cli.Flag) bool {
	switch f.(type) {
	case *cli.IntFlag, *cli.Int64Flag, *cli.Float64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return true
	}
	return false
}
