package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER (linux/prctl.h).
const prSetChildSubreaper = 36

func measure(args []string, grace time.Duration) (figures, int, error) {
	var f figures
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return f, 0, fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", errno)
	}
	t0 := time.Now()
	cmd, err := start(args)
	if err != nil {
		return f, 0, err
	}
	main := cmd.Process.Pid
	stopSampling := make(chan struct{})
	peak := make(chan int64, 1)
	go sample(os.Getpid(), stopSampling, peak)

	status := 0
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.ECHILD) {
			break
		}
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return f, 0, err
		}
		if pid != main {
			continue
		}
		status = ws.ExitStatus()
		if ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
		f.wall = time.Since(t0)
		// A descendant that never ends would keep the reaping loop waiting.
		defer time.AfterFunc(grace, func() {
			for _, p := range descendants(os.Getpid()) {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
			fmt.Fprintf(os.Stderr, "peertime: descendants still running %s after the command: killed\n", grace)
		}).Stop()
	}
	close(stopSampling)
	f.treeRSS = <-peak
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return f, 0, err
	}
	f.user = time.Duration(ru.Utime.Nano())
	f.sys = time.Duration(ru.Stime.Nano())
	f.maxRSS = ru.Maxrss
	return f, status, nil
}

// sample sums the resident memory of root's descendants every 100 ms and
// sends the peak (KiB) when stop closes.
func sample(root int, stop <-chan struct{}, peak chan<- int64) {
	var max int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var sum int64
		for _, p := range descendants(root) {
			sum += rssKiB(p)
		}
		max = maxOf(max, sum)
		select {
		case <-stop:
			peak <- max
			return
		case <-tick.C:
		}
	}
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// descendants lists the processes below root, from /proc.
func descendants(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppid(pid); pp > 0 {
			children[pp] = append(children[pp], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// ppid reads the parent pid from /proc/PID/stat (the field after the
// parenthesised command name, which may itself hold spaces and parentheses).
func ppid(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 2 {
		return 0
	}
	pp, _ := strconv.Atoi(string(fields[1]))
	return pp
}

// rssKiB reads VmRSS from /proc/PID/status.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			fields := bytes.Fields(v)
			if len(fields) > 0 {
				n, _ := strconv.ParseInt(string(fields[0]), 10, 64)
				return n
			}
		}
	}
	return 0
}
