// Command peertime runs a command and measures its whole process tree: wall
// time, user and system CPU seconds of every descendant, the peak resident
// memory of the largest one, and the peak of the tree's summed resident memory
// (sampled every 100 ms; pages shared between processes count once per
// process, so for a forking tool this is an upper bound).
//
//	peertime -o FILE -- ansible-playbook ...
//
// /usr/bin/time counts only the descendants their parents wait for: a
// daemonised helper (Ansible's persistent ansible-connection processes) escapes
// it. peertime makes itself the child subreaper (Linux prctl), so orphans are
// reparented to it, and it reaps them all before it reports.
//
// It writes one line to FILE: "wall user sys maxrss_kib treerss_kib", and exits
// with the command's status.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	out := flag.String("o", "", "file the figures go to (default stderr)")
	grace := flag.Duration("grace", 60*time.Second, "how long descendants may outlive the command before they are killed")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: peertime [-o FILE] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	f, status, err := measure(flag.Args(), *grace)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peertime:", err)
		os.Exit(2)
	}
	line := fmt.Sprintf("%.2f %.2f %.2f %d %d\n", f.wall.Seconds(), f.user.Seconds(), f.sys.Seconds(), f.maxRSS, f.treeRSS)
	if *out == "" {
		fmt.Fprint(os.Stderr, line)
	} else if err := os.WriteFile(*out, []byte(line), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "peertime:", err)
		os.Exit(2)
	}
	os.Exit(status)
}

type figures struct {
	wall, user, sys time.Duration
	maxRSS, treeRSS int64 // KiB
}

func start(args []string) (*exec.Cmd, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd, cmd.Start()
}
