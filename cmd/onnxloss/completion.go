package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionCommand prints a shell completion script generated from the
// commands and flags themselves, so commands and flags added later complete
// without editing it.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish (e.g. source <(onnxloss completion bash))",
		ArgsUsage: "SHELL",
		Action: func(c *cli.Context) error {
			shell, err := oneArg(c, "SHELL")
			if err != nil {
				return err
			}
			var script string
			switch shell {
			case "bash":
				script = bashCompletion(c.App)
			case "zsh":
				script = zshCompletion(c.App)
			case "fish":
				script, err = c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("fish completion: %w", err)
				}
			default:
				return badInput(fmt.Errorf("unknown shell %q: use bash, zsh or fish", shell))
			}
			_, err = fmt.Fprint(c.App.Writer, script)
			return err
		},
	}
}

// visibleCommands are the commands a completion offers (not "help").
func visibleCommands(app *cli.App) []*cli.Command {
	var cmds []*cli.Command
	for _, c := range app.Commands {
		if !c.Hidden && c.Name != "help" {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// flagWords spells every name of flags as typed, sorted.
func flagWords(flags []cli.Flag) []string {
	var w []string
	for _, f := range flags {
		for _, n := range f.Names() {
			w = append(w, dashed(n))
		}
	}
	sort.Strings(w)
	return w
}

func bashCompletion(app *cli.App) string {
	var b strings.Builder
	var names []string
	for _, c := range visibleCommands(app) {
		names = append(names, c.Name)
	}
	fmt.Fprintf(&b, "# bash completion for onnxloss (onnxloss completion bash)\n_onnxloss() {\n")
	fmt.Fprintf(&b, "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"\" w\n")
	fmt.Fprintf(&b, "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do case \"$w\" in -*) ;; *) cmd=\"$w\"; break;; esac; done\n")
	fmt.Fprintf(&b, "  local global=%q\n", strings.Join(append(flagWords(app.Flags), "--help", "--version"), " "))
	fmt.Fprintf(&b, "  case \"$cmd\" in\n")
	fmt.Fprintf(&b, "    \"\") COMPREPLY=($(compgen -W %q -- \"$cur\")); return;;\n", strings.Join(names, " ")+" $global")
	for _, c := range visibleCommands(app) {
		words := append(flagWords(c.Flags), "--help")
		if c.Name == "completion" {
			words = append(words, "bash", "zsh", "fish")
		}
		fmt.Fprintf(&b, "    %s) if [[ \"$cur\" == -* || %t == true ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); else COMPREPLY=($(compgen -f -- \"$cur\")); fi;;\n",
			c.Name, c.Name == "completion", strings.Join(words, " ")+" $global")
	}
	fmt.Fprintf(&b, "  esac\n}\ncomplete -o filenames -F _onnxloss onnxloss\n")
	return b.String()
}

func zshCompletion(app *cli.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef onnxloss\n# zsh completion for onnxloss (onnxloss completion zsh)\n_onnxloss() {\n  local -a commands\n  commands=(\n")
	for _, c := range visibleCommands(app) {
		fmt.Fprintf(&b, "    %s\n", zshQuote(c.Name+":"+c.Usage))
	}
	fmt.Fprintf(&b, "  )\n  if (( CURRENT == 2 )); then _describe command commands; return; fi\n  case ${words[2]} in\n")
	for _, c := range visibleCommands(app) {
		fmt.Fprintf(&b, "    %s) _arguments", c.Name)
		for _, f := range append(append([]cli.Flag{}, c.Flags...), app.Flags...) {
			usage := ""
			if d, ok := f.(cli.DocGenerationFlag); ok {
				usage = strings.NewReplacer("[", "(", "]", ")", "`", "", ":", " ").Replace(d.GetUsage())
			}
			for _, n := range f.Names() {
				spec := dashed(n) + "[" + usage + "]"
				if takesValue(f) {
					spec += ":value:_files"
				}
				fmt.Fprintf(&b, " %s", zshQuote(spec))
			}
		}
		fmt.Fprintf(&b, " '*:file:_files';;\n")
	}
	fmt.Fprintf(&b, "  esac\n}\ncompdef _onnxloss onnxloss\n")
	return b.String()
}

// zshQuote single-quotes s for zsh.
func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
