package main

import (
	"strconv"

	"github.com/urfave/cli/v2"
)

// displayedDefault is the default the help shows for f ("" when it shows
// none): its DefaultText, or its Value. A flag whose absence means "not
// used" shows "none"; help_test.go checks every shown default against what
// the command does when the flag is absent.
func displayedDefault(f cli.Flag) string {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return ""
	}
	s := d.GetDefaultText()
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}
