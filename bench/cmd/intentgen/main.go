// Command intentgen writes a generated, valid intent repo for benchmarks and
// scale tests:
//
//	go run ./bench/cmd/intentgen -services 10000 -devices 1000 -seed 1 -out DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/netrecon/netrecon/bench/intentgen"
)

func main() {
	var cfg intentgen.Config
	flag.IntVar(&cfg.Services, "services", 1000, "service instances to generate")
	flag.IntVar(&cfg.Devices, "devices", 100, "PE routers to spread them over")
	flag.Int64Var(&cfg.Seed, "seed", 1, "seed for placement and wording; the same seed gives the same repo")
	out := flag.String("out", "", "folder to write the repo into (required)")
	flag.Parse()

	if err := run(cfg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "intentgen:", err)
		os.Exit(1)
	}
}

func run(cfg intentgen.Config, out string) error {
	switch {
	case out == "":
		return fmt.Errorf("-out is required")
	case cfg.Services < 0 || cfg.Services > intentgen.MaxServices:
		return fmt.Errorf("-services %d: must be between 0 and %d", cfg.Services, intentgen.MaxServices)
	case cfg.Devices < 1 || cfg.Devices > intentgen.MaxDevices:
		return fmt.Errorf("-devices %d: must be between 1 and %d", cfg.Devices, intentgen.MaxDevices)
	}
	return intentgen.Write(out, cfg)
}
