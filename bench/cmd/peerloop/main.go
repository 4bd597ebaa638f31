// Command peerloop is the Go half of the peer benchmark (bench/peer/run.sh,
// package bench/peer), on the first -n devices of the lab:
//
//	peerloop -n 10 prepare DIR   # the intent repo and Ansible's inputs for the change
//	peerloop -n 10 loop          # the bare loop: dial, lock, edit, commit, unlock
//	peerloop -n 10 reset         # remove the change from every device
//	peerloop -n 10 verify        # count the change's interfaces in running
//	peerloop session-id          # the id a new session on the first device gets
//
// loop, reset and verify print one line and exit 1 when a device failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/netrecon/netrecon/bench/peer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peerloop:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("peerloop", flag.ContinueOnError)
	labFile := fs.String("lab", os.Getenv("NETRECON_LAB"), "the lab's lab.json")
	n := fs.Int("n", 1, "how many of the lab's devices")
	var o peer.Options
	fs.IntVar(&o.Concurrency, "concurrency", 10, "devices in flight")
	fs.DurationVar(&o.Settle, "settle-after-hello", 100*time.Millisecond, "pause between hello and the first request")
	fs.DurationVar(&o.RPCTimeout, "rpc-timeout", 30*time.Second, "deadline of each request")
	fs.IntVar(&o.Retries, "retries", 0, "more sessions a failed device gets (not for the measured loop)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *labFile == "" {
		return fmt.Errorf("no lab: -lab or $NETRECON_LAB")
	}
	if fs.NArg() < 1 {
		return fmt.Errorf("want a command: prepare DIR, loop, reset, verify or session-id")
	}
	l, err := peer.LoadLab(*labFile, *n)
	if err != nil {
		return err
	}
	switch cmd := fs.Arg(0); cmd {
	case "prepare":
		if fs.NArg() != 2 {
			return fmt.Errorf("prepare DIR")
		}
		dir, err := filepath.Abs(fs.Arg(1))
		if err != nil {
			return err
		}
		return peer.Prepare(dir, l, filepath.Join(dir, "ansible", "ssh_config"))
	case "session-id":
		id, err := peer.SessionID(ctx, l, l.Devices[0], o)
		if err != nil {
			return err
		}
		fmt.Println(id)
		return nil
	case "loop", "reset", "verify":
		do := map[string]func(context.Context, peer.Lab, peer.Options) peer.Result{"loop": peer.Loop, "reset": peer.Reset, "verify": peer.Verify}[cmd]
		res := do(ctx, l, o)
		line := fmt.Sprintf("%s: %d devices, %d failed", cmd, len(l.Devices), len(res.Errors))
		if cmd == "verify" {
			complete, total := 0, 0
			for _, c := range res.Found {
				total += c
				if c == peer.Interfaces {
					complete++
				}
			}
			line += fmt.Sprintf(", %d interfaces found, %d devices with all %d", total, complete, peer.Interfaces)
		}
		fmt.Println(line)
		if len(res.Errors) > 0 {
			names := make([]string, 0, len(res.Errors))
			for name := range res.Errors {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				fmt.Fprintln(os.Stderr, res.Errors[name])
			}
			return fmt.Errorf("%s: %d of %d devices failed", cmd, len(res.Errors), len(l.Devices))
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q: want prepare, loop, reset, verify or session-id", cmd)
	}
}
