package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/netrecon/netrecon/drivers/netconf"
	"github.com/netrecon/netrecon/views"
)

func newHostkeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hostkeys",
		Short: "Manage the SSH host keys netrecon trusts",
	}
	cmd.AddCommand(newHostkeysFetchCmd(a))
	return cmd
}

func newHostkeysFetchCmd(a *app) *cobra.Command {
	var (
		df      deviceFlags
		lf      loadFlags
		replace bool
	)
	cmd := &cobra.Command{
		Use:   "fetch [DIR]",
		Short: "Record the host keys of the inventory's devices (trust on first use)",
		Long: `Fetch connects to each device of the inventory in DIR, reads the SSH host key it
presents and records it in known_hosts (STATE/known_hosts by default), printing each
key's fingerprint so the operator can compare it with the router's own.

netrecon never connects to a device whose key is not recorded, and refuses one whose
key changed. This verb is the one explicit step where a key is trusted on first use.
A device whose recorded key differs from the one it presents now is left as it is
and reported, unless --replace is given.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if err := df.check(); err != nil {
				return &exitError{code: 2, err: err}
			}
			in, diags, err := loadDir(dir, lf.options())
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if diags.HasErrors() {
				printDiags(a, diags)
				return &exitError{code: 1}
			}
			names, err := df.selected(in)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			kh, err := df.knownHostsFile()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			known, err := readKnownHosts(kh)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			failed := 0
			var lines []string
			for _, name := range names {
				d := in.Device(name)
				ctx, cancel := context.WithTimeout(cmd.Context(), df.dialTimeout)
				key, err := netconf.FetchHostKey(ctx, d.Address, d.Port)
				cancel()
				if err != nil {
					fmt.Fprintf(a.stderr, "%s: %v\n", name, err)
					failed++
					continue
				}
				host := knownhosts.Normalize(net.JoinHostPort(d.Address, strconv.Itoa(d.Port)))
				fp := ssh.FingerprintSHA256(key)
				switch old, ok := known[host]; {
				case ok && old == fp:
					fmt.Fprintf(a.stdout, "%s  %s  %s (already known)\n", name, host, fp)
					continue
				case ok && !replace:
					fmt.Fprintf(a.stderr, "%s: %s presents %s but known_hosts has %s: the key changed, or someone is in between. Check with the router's own fingerprint; --replace records the new key.\n", name, host, fp, old)
					failed++
					continue
				}
				fmt.Fprintf(a.stdout, "%s  %s  %s\n", name, host, fp)
				lines = append(lines, netconf.KnownHostsLine(d.Address, d.Port, key))
			}
			if len(lines) > 0 {
				if err := os.MkdirAll(filepath.Dir(kh), 0o700); err != nil {
					return &exitError{code: 1, err: err}
				}
				if err := writeKnownHosts(kh, lines, replace); err != nil {
					return &exitError{code: 1, err: err}
				}
				fmt.Fprintf(a.stdout, "recorded %s in %s\n", views.Count(len(lines), "host key"), kh)
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %s not recorded", failed, views.Count(len(names), "device"))}
			}
			return nil
		},
	}
	df.register(cmd)
	lf.register(cmd)
	cmd.Flags().BoolVar(&replace, "replace", false, "record a device's key even when a different one is known")
	return cmd
}

// readKnownHosts maps each host pattern of a known_hosts file to the
// fingerprint of its (last) key. A missing file is an empty one.
func readKnownHosts(file string) (map[string]string, error) {
	out := map[string]string{}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for rest := b; len(rest) > 0; {
		_, hosts, key, _, r, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			break // io.EOF at the end; a bad line ends what we can read
		}
		rest = r
		for _, h := range hosts {
			out[h] = ssh.FingerprintSHA256(key)
		}
	}
	return out, nil
}

// writeKnownHosts appends lines to the file; with replace, lines for the same
// hosts are dropped first.
func writeKnownHosts(file string, lines []string, replace bool) error {
	var keep []string
	if b, err := os.ReadFile(file); err == nil {
		drop := map[string]bool{}
		if replace {
			for _, l := range lines {
				drop[strings.Fields(l)[0]] = true
			}
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			l := sc.Text()
			if f := strings.Fields(l); len(f) > 0 && drop[f[0]] {
				continue
			}
			keep = append(keep, l)
		}
	}
	keep = append(keep, lines...)
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
