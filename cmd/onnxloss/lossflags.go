package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/lossops"
)

// The per-loss metadata of the loss-specific flags is the loss registry:
// lossops.ParamUsers(flag) lists the losses that read each parameter flag.
// A flag given for a loss that does not read it is an error (exit 2)
// naming the flag and the losses it applies to — never a silently ignored
// value.

// weightingParams are the weight flags read by some weightings only.
var weightingParams = map[string][]lossops.Weighting{
	"beta":   {lossops.WeightEffective},
	"enet-c": {lossops.WeightENet},
}

// paramUsersText lists the losses reading a flag, for its help.
func paramUsersText(flag string) string {
	users := lossops.ParamUsers(flag)
	names := make([]string, len(users))
	for i, l := range users {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
}

// lossWeightingDefaults is --weighting's shown default: each loss's own.
func lossWeightingDefaults() string {
	by := map[lossops.Weighting][]string{}
	var order []lossops.Weighting
	for _, l := range lossops.Losses {
		if !l.TakesWeights() {
			continue
		}
		w := lossops.DefaultWeighting(l)
		if _, ok := by[w]; !ok {
			order = append(order, w)
		}
		by[w] = append(by[w], string(l))
	}
	parts := make([]string, len(order))
	for i, w := range order {
		parts[i] = fmt.Sprintf("%s for %s", w, strings.Join(by[w], ", "))
	}
	return strings.Join(parts, "; ")
}

// checkUnusedFlags rejects loss and weighting flags given explicitly that
// have no effect with the chosen loss (nil: the command has no --loss) and
// weighting.
func checkUnusedFlags(c *cli.Context, loss lossops.Loss, hasLoss bool, weighting lossops.Weighting) error {
	if hasLoss {
		for _, f := range c.Command.Flags {
			name := f.Names()[0]
			_, isParam := lossops.ParamByName(name)
			if isParam && c.IsSet(name) && !slices.Contains(lossops.ParamUsers(name), loss) {
				return fmt.Errorf("--%s has no effect with --loss %s: it applies to %s (drop the flag or pick one of those losses)", name, loss, paramUsersText(name))
			}
		}
	}
	for name, ws := range weightingParams {
		if c.IsSet(name) && !slices.Contains(ws, weighting) {
			return fmt.Errorf("--%s has no effect with --weighting %s: it applies to --weighting %s (drop the flag)", name, weighting, ws[0])
		}
	}
	return nil
}
