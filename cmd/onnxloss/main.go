// Command onnxloss appends class-imbalance losses to ONNX models and verifies
// them with a pure-Go reference evaluator. See README.md for usage.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
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
	return runWithStdin(args, os.Stdin, stdout, stderr)
}

// runWithStdin is run reading "-" inputs from stdin.
func runWithStdin(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	app := newApp(stdout, stderr)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "onnxloss: internal error: %v (please report it)\n", r)
			code = 3
		}
	}()
	if len(args) < 2 {
		// No command: the usage, and the exit code of a usage error.
		app.Writer = stderr
		_ = app.Run(args[:1])
		return exitBadInput
	}
	p, err := parseArgs(app, args)
	if err != nil {
		fmt.Fprintln(stderr, "onnxloss: "+oneLine(err.Error()))
		return exitBadInput
	}
	var sio stdio
	defer sio.close()
	if err := sio.bind(&p, stdin); err != nil {
		fmt.Fprintln(stderr, "onnxloss: "+oneLine(err.Error()))
		return exitBadInput
	}
	stderr = sio.rename(stderr)
	app.ErrWriter = stderr
	if sio.stdout != "" {
		// The output owns standard output; what the command prints there
		// (reports, tables) goes to standard error.
		app.Writer = stderr
	} else {
		app.Writer = sio.rename(stdout)
	}
	quiet, verbose := globalSwitches(p.global)
	if quiet {
		app.ErrWriter = io.Discard
	}
	if verbose && p.command != nil {
		p.command.Before = chainBefore(p.command.Before, printEffectiveFlags)
	}
	err = app.Run(p.argv(args[0]))
	if err == nil {
		if err := sio.flush(stdout); err != nil {
			fmt.Fprintln(stderr, "onnxloss: "+oneLine(err.Error()))
			return exitBadInput
		}
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

// globalFlags are accepted before or after the command.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing on stderr but errors"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also print every flag's value (given or default) on stderr before running"},
	}
}

// globalSwitches reads --quiet and --verbose from the global flags.
func globalSwitches(global []string) (quiet, verbose bool) {
	for _, g := range global {
		name, value, has := strings.Cut(strings.TrimLeft(g, "-"), "=")
		on := !has || value == "true" || value == "1"
		switch name {
		case "quiet", "q":
			quiet = on
		case "verbose", "v":
			verbose = on
		}
	}
	return quiet, verbose
}

func chainBefore(first, then cli.BeforeFunc) cli.BeforeFunc {
	return func(c *cli.Context) error {
		if first != nil {
			if err := first(c); err != nil {
				return err
			}
		}
		return then(c)
	}
}

// printEffectiveFlags is --verbose: every flag of the command with the value
// the command uses, given or default, so nothing is a silent surprise.
func printEffectiveFlags(c *cli.Context) error {
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if name == "help" {
			continue
		}
		how := "default"
		if c.IsSet(name) {
			how = "given"
		}
		v := fmt.Sprint(c.Value(name))
		if !c.IsSet(name) {
			if d := displayedDefault(f); d != "" {
				v = d
			}
		}
		fmt.Fprintf(c.App.ErrWriter, "onnxloss %s: --%s %s (%s)\n", c.Command.Name, name, oneLine(v), how)
	}
	return nil
}

func newApp(stdout, stderr io.Writer) *cli.App {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version (also: onnxloss version)"}
	app := &cli.App{
		Name:      "onnxloss",
		Usage:     "append class-imbalance losses to ONNX models and verify them",
		UsageText: "onnxloss [--quiet|--verbose] COMMAND [flags] [arguments]   (- is stdin/stdout for files)",
		Version:   inject.Version, // the version inject writes into the metadata
		Writer:    stdout,
		ErrWriter: stderr,
		Flags:     globalFlags(),
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
			versionCommand(),
			completionCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = usageError
		markFlags(c.Flags)
	}
	markFlags(app.Flags)
	return app
}

// markFlags makes the help say "(required)" for required flags.
func markFlags(flags []cli.Flag) {
	for _, f := range flags {
		if r, ok := f.(cli.RequiredFlag); ok && r.IsRequired() {
			if sf, ok := f.(*cli.StringFlag); ok && !strings.HasSuffix(sf.Usage, "(required)") {
				sf.Usage += " (required)"
			}
		}
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return badInput(fmt.Errorf("version takes no arguments (see `onnxloss version --help`)"))
			}
			_, err := fmt.Fprintf(c.App.Writer, "onnxloss %s\n", c.App.Version)
			return err
		},
	}
}

func usageError(c *cli.Context, err error, _ bool) error {
	name := "onnxloss"
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
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
