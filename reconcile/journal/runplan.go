package journal

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// A run's plan holds every device's desired tree and every change: about
// 29 KiB a device on the peer benchmark (2.9 MiB for 100 devices), almost
// all of it repeated names and namespaces. Stored as it is, it filled the
// write-ahead log of a 100-device apply past SQLite's checkpoint threshold,
// and a checkpoint then cost one of the run's phase writes 40 ms. So the
// journal stores it gzip'd (fastest level: 26 times smaller there) and in
// base64, behind planPrefix, in the TEXT column it always had: PostgreSQL
// TEXT takes no binary, and a plan stored before reads as it was.
const planPrefix = "gzip+base64:"

// encodePlan is what run_plans.plan holds for plan.
func encodePlan(plan []byte) (string, error) {
	if !utf8.Valid(plan) {
		return "", errors.New("plan is not UTF-8 text")
	}
	if len(plan) == 0 {
		return "", nil
	}
	var b strings.Builder
	b.WriteString(planPrefix)
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	zw, err := gzip.NewWriterLevel(enc, gzip.BestSpeed)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(plan); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// maxPlan bounds a stored plan once decompressed: a row that inflates past
// it is not a plan netrecon wrote.
const maxPlan = 1 << 30

// decodePlan reads what encodePlan stored, or a plan stored before plans
// were compressed.
func decodePlan(stored string) ([]byte, error) {
	rest, ok := strings.CutPrefix(stored, planPrefix)
	if !ok {
		return []byte(stored), nil
	}
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, strings.NewReader(rest)))
	if err != nil {
		return nil, fmt.Errorf("stored plan: %w", err)
	}
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, maxPlan+1))
	if err != nil {
		return nil, fmt.Errorf("stored plan: %w", err)
	}
	if n > maxPlan {
		return nil, fmt.Errorf("stored plan: larger than %d bytes", maxPlan)
	}
	return out.Bytes(), nil
}

// SetRunPlan records the plan of run id, replacing the one BeginRun
// recorded (an apply begins its run without one, and writes the plan
// while its devices lock, off the path they wait on). Recovery reads the
// plan of a run only for devices whose commit may have been sent, so a
// caller writes it before journaling any committed phase.
func (j *Journal) SetRunPlan(ctx context.Context, id RunID, plan []byte) error {
	stored, err := encodePlan(plan)
	if err != nil {
		return fmt.Errorf("journal: run %d: set plan: %w", id, err)
	}
	err = j.write(ctx, func(t txn) error {
		if err := checkRunning(t, id); err != nil {
			return err
		}
		if err := t.fenceRun(id); err != nil {
			return err
		}
		_, err := t.exec(`UPDATE run_plans SET plan = ? WHERE run_id = ?`, stored, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: run %d: set plan: %w", id, err)
	}
	return nil
}
