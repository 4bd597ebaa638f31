// Command applybench measures one atomic apply over many simulated devices,
// with the simulator in a child process so that the figures are netrecon's
// alone (package bench/applybench):
//
//	go run ./bench/cmd/applybench -devices 1000 -json now.json -before before.json
//
// -before prints an earlier run's figures (its -json) beside this run's.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/netrecon/netrecon/bench/applybench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The benchmark runs this same executable as its simulator.
	if sim, err := applybench.MaybeSim(ctx, os.Stdin, os.Stdout); sim {
		if err != nil {
			fmt.Fprintln(os.Stderr, "applybench simulator:", err)
			os.Exit(1)
		}
		return
	}
	var cfg applybench.Config
	flag.IntVar(&cfg.Devices, "devices", 1000, "simulated devices in the change set")
	flag.IntVar(&cfg.Interfaces, "interfaces", 2, "interfaces each device's change creates")
	flag.IntVar(&cfg.Concurrency, "concurrency", 0, "devices worked on at once (0: apply's default)")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the apply's CPU profile to this file")
	flag.StringVar(&cfg.HeapProfile, "heapprofile", "", "write a heap profile taken at the first event of -heapprofile-at")
	flag.StringVar(&cfg.HeapProfileAt, "heapprofile-at", "confirmed", "apply event (phase, or journal:BATCH) at which to take the heap profile")
	jsonOut := flag.String("json", "", "write the figures as JSON to this file")
	before := flag.String("before", "", "figures of an earlier run (its -json) to print beside these")
	flag.Parse()
	if err := run(ctx, cfg, *jsonOut, *before); err != nil {
		fmt.Fprintln(os.Stderr, "applybench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg applybench.Config, jsonOut, beforePath string) error {
	var before *applybench.Figures
	if beforePath != "" {
		var err error
		if before, err = applybench.ReadFigures(beforePath); err != nil {
			return err
		}
	}
	f, err := applybench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if jsonOut != "" {
		if err := applybench.WriteFigures(jsonOut, f); err != nil {
			return err
		}
	}
	return applybench.Print(os.Stdout, f, before)
}
