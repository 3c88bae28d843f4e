// Command onnxloss appends class-imbalance losses to ONNX models and verifies
// them with a pure-Go reference evaluator. See README.md for usage.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/cleanup"
	"github.com/onnxloss/onnxloss/internal/termtext"
)

// Exit codes: 0 success, 1 a verification mismatch, 2 bad usage or input.
const (
	exitMismatch = 1
	exitBadInput = 2
)

func main() {
	// An interrupted run removes its temporary output and exits 128+signal.
	cleanup.HandleSignals(os.Stderr, "onnxloss")
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run executes the CLI and returns its exit code. Errors reach stderr as
// one line; nothing panics on user input.
func run(args []string, stdout, stderr io.Writer) (code int) {
	app := newApp(stdout, stderr)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "onnxloss: internal error: %v (please report it)\n", r)
			code = 3
		}
	}()
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") && args[1] != "help" && !isCommand(app, args[1]) {
		fmt.Fprintf(stderr, "onnxloss: unknown command %s: use one of %s (see `onnxloss --help`)\n", strconv.Quote(args[1]), strings.Join(commandNames(app), ", "))
		return exitBadInput
	}
	err := app.Run(reorderArgs(app, args))
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := strings.TrimSpace(ec.Error()); msg != "" {
			fmt.Fprintln(stderr, "onnxloss: "+oneLine(msg))
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "onnxloss: "+oneLine(err.Error()))
	return exitBadInput
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "onnxloss",
		Usage:     "append class-imbalance losses to ONNX models and verify them",
		Version:   inject.Version, // the version inject writes into the metadata
		Writer:    stdout,
		ErrWriter: stderr,
		// Exit codes are decided in run, not by the library.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError,
		Commands: []*cli.Command{
			inspectCommand(),
			injectCommand(),
			weightsCommand(),
			countsCommand(),
			verifyCommand(),
			opsCommand(),
			stepCommand(),
			lossesCommand(),
			loadParamsCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = usageError
	}
	return app
}

func usageError(c *cli.Context, err error, _ bool) error {
	name := "onnxloss"
	if c.Command != nil && c.Command.Name != "" {
		name += " " + c.Command.Name
	}
	return cli.Exit(fmt.Sprintf("%v (see `%s --help`)", err, name), exitBadInput)
}

// badInput wraps an error as a one-line exit-2 error.
func badInput(err error) error {
	return cli.Exit(err.Error(), exitBadInput)
}

// oneLine makes a message one line that is safe for a terminal: names
// from models and flags in it may hold control characters (see termtext).
func oneLine(s string) string {
	return termtext.Line(s)
}

func isCommand(app *cli.App, name string) bool {
	for _, c := range app.Commands {
		if c.HasName(name) {
			return true
		}
	}
	return false
}

func commandNames(app *cli.App) []string {
	names := make([]string, len(app.Commands))
	for i, c := range app.Commands {
		names[i] = c.Name
	}
	return names
}

// reorderArgs moves a command's flags in front of its positional arguments,
// so `onnxloss inspect model.onnx --json` works like `inspect --json
// model.onnx` (the flag parser stops at the first positional argument).
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[1]) {
			cmd = c
		}
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, positional []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(rest) {
				flags = append(flags, rest[i+1])
				i++
			}
			continue
		}
		positional = append(positional, a)
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}
