package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// singleDashLong refuses a long flag written with one dash ("-out FILE"), as
// Go's flag package and many tools accept. pflag reads "-out" as shorthand
// flags: "-o ut", output format "ut", and FILE becomes an argument; the error
// that follows names neither. The message names the flag as it is meant.
func singleDashLong(root *cobra.Command, args []string) error {
	c, _, err := root.Find(args)
	if err != nil || c == nil {
		return nil // cobra reports an unknown verb itself
	}
	c.InitDefaultHelpFlag()
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if len(arg) < 3 || arg[0] != '-' || arg[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(arg[1:], "=")
		if c.Flags().Lookup(name) == nil && c.InheritedFlags().Lookup(name) == nil {
			continue
		}
		msg := fmt.Sprintf("%s: long flags take two dashes: --%s", arg, strings.TrimPrefix(arg, "-"))
		if sh := c.Flags().ShorthandLookup(name[:1]); sh != nil && sh.NoOptDefVal == "" {
			msg += fmt.Sprintf(" (with one dash it would read as -%s %s, the --%s flag)", name[:1], name[1:], sh.Name)
		}
		return fmt.Errorf("%s; see %s --help", msg, c.CommandPath())
	}
	return nil
}
