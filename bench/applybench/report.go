package applybench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// ReadFigures reads figures a previous run wrote with WriteFigures.
func ReadFigures(path string) (*Figures, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Figures
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// WriteFigures writes f as indented JSON.
func WriteFigures(path string, f *Figures) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Print writes f as a table for people, beside before when it is not nil
// (the figures of an earlier run, the same benchmark on an older netrecon),
// with the ratio now/before.
func Print(w io.Writer, f, before *Figures) error {
	fmt.Fprintf(w, "apply of one change set: %d simulated devices (simulator in its own process), %d interfaces each, concurrency %d; %s, %d CPUs, load %s\n",
		f.Devices, f.Interfaces, f.Concurrency, f.GoVersion, f.CPUs, f.Load)
	if before != nil && (before.Devices != f.Devices || before.Interfaces != f.Interfaces || before.Concurrency != f.Concurrency) {
		fmt.Fprintf(w, "note: before was %d devices, %d interfaces, concurrency %d: not the same work\n", before.Devices, before.Interfaces, before.Concurrency)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if before != nil {
		fmt.Fprintln(tw, "\tbefore\tnow\tnow/before\t")
	} else {
		fmt.Fprintln(tw, "\tnow\t")
	}
	row := func(name string, now, old float64, unit string) {
		if before == nil {
			fmt.Fprintf(tw, "%s\t%.2f %s\t\n", name, now, unit)
			return
		}
		ratio := "-"
		if old != 0 {
			ratio = fmt.Sprintf("%.2f", now/old)
		}
		fmt.Fprintf(tw, "%s\t%.2f %s\t%.2f %s\t%s\t\n", name, old, unit, now, unit, ratio)
	}
	b := before
	if b == nil {
		b = &Figures{}
	}
	const mib = 1 << 20
	row("apply wall", f.ApplyWall, b.ApplyWall, "s")
	row("apply cpu", f.ApplyCPU, b.ApplyCPU, "s")
	row("apply peak RSS (netrecon)", float64(f.ApplyPeakRSS)/mib, float64(b.ApplyPeakRSS)/mib, "MiB")
	row("apply peak live heap (sampled)", float64(f.ApplyPeakHeap)/mib, float64(b.ApplyPeakHeap)/mib, "MiB")
	row("apply peak goroutine stacks (sampled)", float64(f.ApplyPeakStack)/mib, float64(b.ApplyPeakStack)/mib, "MiB")
	row("apply allocated", float64(f.ApplyAlloc)/mib, float64(b.ApplyAlloc)/mib, "MiB")
	row("apply GC cycles", float64(f.ApplyGCs), float64(b.ApplyGCs), "")
	row("apply peak goroutines (sampled)", float64(f.Goroutines), float64(b.Goroutines), "")
	row("journal file + WAL", float64(f.JournalSize)/mib, float64(b.JournalSize)/mib, "MiB")
	row("plan wall", f.PlanWall, b.PlanWall, "s")
	row("netrecon process peak RSS", float64(f.ProcessPeakRSS)/mib, float64(b.ProcessPeakRSS)/mib, "MiB")
	row("simulator peak RSS", float64(f.SimPeakRSS)/mib, float64(b.SimPeakRSS)/mib, "MiB")
	row("simulator cpu", f.SimCPU, b.SimCPU, "s")
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "outcome %s, %d changes\n", f.Outcome, f.Changes)
	return err
}
