package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// usageErr is a command-line error found before the flag parser runs; its
// message already names the command once and the help to read.
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

// parsedArgs is the command line split into its parts.
type parsedArgs struct {
	global     []string // global flags (--quiet, --verbose, …), wherever given
	command    *cli.Command
	flags      []string // the command's flags with their values
	positional []string
	// help holds `onnxloss help [COMMAND]` as given (the library's help
	// command, which parses its own arguments).
	help []string
}

// argv rebuilds a command line the flag parser reads unambiguously: global
// flags, the command, its flags, then "--" and the positional arguments
// (the parser stops at the first positional argument, so flags given after
// them would otherwise be taken as arguments).
func (p parsedArgs) argv(prog string) []string {
	out := append([]string{prog}, p.global...)
	if p.command == nil {
		return append(out, p.help...)
	}
	out = append(out, p.command.Name)
	out = append(out, p.flags...)
	if len(p.positional) > 0 {
		out = append(out, "--")
		out = append(out, p.positional...)
	}
	return out
}

// flagIndex maps every name and alias of flags to its flag.
func flagIndex(flags []cli.Flag) map[string]cli.Flag {
	m := map[string]cli.Flag{}
	for _, f := range flags {
		for _, n := range f.Names() {
			m[n] = f
		}
	}
	return m
}

// takesValue reports whether a flag needs a value (every flag but booleans).
func takesValue(f cli.Flag) bool {
	_, isBool := f.(*cli.BoolFlag)
	return !isBool
}

// dashed spells a flag name as it is typed: -o, --output.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// looksLikeFlag reports whether a token is a flag rather than a value: a
// token starting with "--", or "-" followed by a name this command or the
// global flags know. "-100", "-0.5", "-Inf" and "-" are values.
func looksLikeFlag(tok string, known ...map[string]cli.Flag) bool {
	if strings.HasPrefix(tok, "--") {
		return true
	}
	if len(tok) < 2 || tok[0] != '-' {
		return false
	}
	name, _, _ := strings.Cut(tok[1:], "=")
	for _, k := range known {
		if _, ok := k[name]; ok {
			return true
		}
	}
	return false
}

// parseArgs splits args (args[0] is the program) into global flags, the
// command, its flags and positional arguments. It rejects what the flag
// parser would misread: an unknown flag (suggesting the closest), a flag
// that needs a value followed by nothing, by "--" or by another flag.
func parseArgs(app *cli.App, args []string) (parsedArgs, error) {
	var p parsedArgs
	globals := flagIndex(append([]cli.Flag{cli.HelpFlag, cli.VersionFlag}, app.Flags...))
	i := 1
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if _, ok := globals[name]; !ok {
			return p, usageErr{unknownFlagMsg("onnxloss", a, append([]cli.Flag{cli.HelpFlag, cli.VersionFlag}, app.Flags...))}
		}
		p.global = append(p.global, a)
	}
	if i == len(args) {
		return p, nil
	}
	if args[i] == "help" || args[i] == "h" {
		p.help = args[i:]
		return p, nil
	}
	for _, c := range app.Commands {
		if c.HasName(args[i]) {
			p.command = c
		}
	}
	if p.command == nil {
		msg := fmt.Sprintf("unknown command %q", args[i])
		if s := closest(args[i], commandNames(app)); s != "" {
			msg += fmt.Sprintf(": did you mean `onnxloss %s`?", s)
		} else {
			msg += ": use one of " + strings.Join(commandNames(app), ", ")
		}
		return p, usageErr{msg + " (see `onnxloss --help`)"}
	}
	own := flagIndex(p.command.Flags)
	own["help"], own["h"] = cli.HelpFlag, cli.HelpFlag
	globals = flagIndex(app.Flags)
	where := "onnxloss " + p.command.Name
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			p.positional = append(p.positional, rest[j+1:]...)
			break
		}
		if !looksLikeFlag(a, own, globals) {
			p.positional = append(p.positional, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, isOwn := own[name]
		g, isGlobal := globals[name]
		switch {
		case isOwn:
		case isGlobal:
			p.global = append(p.global, a)
			f = g
			if !takesValue(g) || hasValue {
				continue
			}
		default:
			return p, usageErr{unknownFlagMsg(where, a, p.command.Flags)}
		}
		if !isGlobal {
			p.flags = append(p.flags, a)
		}
		if hasValue || !takesValue(f) {
			continue
		}
		if j+1 >= len(rest) || rest[j+1] == "--" || looksLikeFlag(rest[j+1], own, globals) {
			return p, usageErr{fmt.Sprintf("flag %s needs a value (see `%s --help`)", dashed(name), where)}
		}
		j++
		if isGlobal {
			p.global = append(p.global, rest[j])
		} else {
			p.flags = append(p.flags, rest[j])
		}
	}
	return p, nil
}

// unknownFlagMsg names an unknown flag and the closest defined one.
func unknownFlagMsg(where, tok string, flags []cli.Flag) string {
	name, _, _ := strings.Cut(strings.TrimLeft(tok, "-"), "=")
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	msg := fmt.Sprintf("unknown flag %s", dashed(name))
	if s := closest(name, names); s != "" {
		msg += fmt.Sprintf(": did you mean %s?", dashed(s))
	}
	return msg + fmt.Sprintf(" (see `%s --help`)", where)
}

// closest returns the candidate nearest to s (underscores read as dashes,
// case ignored, as PyTorch spells ignore_index), or "" when none is close:
// within a third of the name's length in edits, at least 2.
func closest(s string, candidates []string) string {
	norm := func(x string) string { return strings.ToLower(strings.ReplaceAll(x, "_", "-")) }
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(norm(s), norm(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(2, len(s)/3)
	if bestD < 0 || bestD > limit || len(best) == 1 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
