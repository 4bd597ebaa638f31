package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RunID identifies a run; ids grow with time.
type RunID int64

// Outcome is how a run ended, or Running while it has not.
type Outcome string

const (
	Running    Outcome = "running"
	Applied    Outcome = "applied"
	RolledBack Outcome = "rolled-back"
	Failed     Outcome = "failed"
	Partial    Outcome = "partial"
	NoChanges  Outcome = "no-changes"
	// Recovered is a run that a later start settled from the journal after
	// the process running it died.
	Recovered Outcome = "recovered"
	// Mixed is a run that left a device on neither its old nor its new
	// configuration: a rollback the device could not be brought back by.
	Mixed Outcome = "mixed"
	// Deferred is a run that changed nothing because a guard (operator
	// logged in, freeze window, maintenance) held a device of it back, and
	// nothing else failed: not a failure, a wait.
	Deferred Outcome = "deferred"
)

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool {
	switch o {
	case Running, Applied, RolledBack, Failed, Partial, NoChanges, Recovered, Mixed, Deferred:
		return true
	}
	return false
}

// Phase is where a device is in a run. A phase is recorded before it is
// entered: Committed means "about to commit, or committed".
type Phase string

const (
	Pending     Phase = "pending"
	Locked      Phase = "locked"
	Edited      Phase = "edited"
	Committed   Phase = "committed"
	Verified    Phase = "verified"
	Confirmed   Phase = "confirmed"
	Cancelled   Phase = "cancelled"
	Undone      Phase = "undone"
	PhaseFailed Phase = "failed"
	Skipped     Phase = "skipped"
	// Mixed: after the rollback, running (read back) is neither the
	// pre-image nor the planned result; the detail names the nodes.
	PhaseMixed Phase = "mixed"
)

// Valid reports whether p is one of the phases above.
func (p Phase) Valid() bool {
	switch p {
	case Pending, Locked, Edited, Committed, Verified, Confirmed, Cancelled, Undone, PhaseFailed, Skipped, PhaseMixed:
		return true
	}
	return false
}

// Run is one apply.
type Run struct {
	ID           RunID
	IntentCommit string
	StartedBy    string // "cli:user", "daemon", "demo"
	Atomic       bool
	Plan         []byte // JSON, opaque to the journal
	StartedAt    time.Time
	FinishedAt   time.Time // zero while running
	Outcome      Outcome
	Summary      string
	// Devices are sorted by name. Run and Unfinished fill them; Runs fills
	// them with the current phase only.
	Devices []DeviceRun
}

// DeviceRun is one device of a run.
type DeviceRun struct {
	Device    string
	Phase     Phase  // the last phase entered
	PersistID string // of the confirmed commit, once there is one
	Error     string // the detail of the last PhaseFailed
	// Transitions, oldest first, are filled by Run only.
	Transitions []Transition
}

// Transition is one phase entered.
type Transition struct {
	Phase  Phase
	At     time.Time
	Detail string
	// Writer is the lease token of the replica that wrote it (Fenced); 0
	// for a journal written by one process alone.
	Writer int64
}

// BeginRun records a run that starts, with every device Pending and the
// outcome Running; r.ID, r.Outcome, r.FinishedAt and r.Devices are ignored,
// and a zero r.StartedAt means now.
func (j *Journal) BeginRun(ctx context.Context, r Run, devices []string) (RunID, error) {
	seen := make(map[string]bool, len(devices))
	for _, d := range devices {
		if d == "" {
			return 0, errors.New("journal: begin run: empty device name")
		}
		if seen[d] {
			return 0, fmt.Errorf("journal: begin run: device %q listed twice", d)
		}
		seen[d] = true
	}
	// Stored compressed (encodePlan); the plan itself must be UTF-8 text.
	plan, err := encodePlan(r.Plan)
	if err != nil {
		return 0, fmt.Errorf("journal: begin run: %w", err)
	}
	started := r.StartedAt
	if started.IsZero() {
		started = j.now()
	}
	atomic := 0
	if r.Atomic {
		atomic = 1
	}
	var id RunID
	err = j.write(ctx, func(t txn) error {
		if err := t.fenceDevices(devices...); err != nil {
			return err
		}
		if err := t.queryRow(`INSERT INTO runs (intent_commit, started_by, atomic, started_at, finished_at, outcome, summary)
			VALUES (?, ?, ?, ?, NULL, ?, ?) RETURNING id`,
			r.IntentCommit, r.StartedBy, atomic, started.UnixNano(), string(Running), r.Summary,
		).Scan(&id); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO run_plans (run_id, plan) VALUES (?, ?)`, id, plan); err != nil {
			return err
		}
		if len(devices) == 0 {
			return nil
		}
		dev, err := t.prepare(`INSERT INTO device_runs (run_id, device, phase, persist_id, error) VALUES (?, ?, ?, '', '')`)
		if err != nil {
			return err
		}
		defer dev.Close()
		tr, err := t.prepare(`INSERT INTO transitions (run_id, device, phase, at, detail, writer) VALUES (?, ?, ?, ?, '', ?)`)
		if err != nil {
			return err
		}
		defer tr.Close()
		for _, d := range devices {
			if _, err := dev.ExecContext(ctx, id, d, string(Pending)); err != nil {
				return err
			}
			if _, err := tr.ExecContext(ctx, id, d, string(Pending), started.UnixNano(), t.writer()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal: begin run: %w", err)
	}
	j.log.DebugContext(ctx, "run begun", "run", id, "devices", len(devices), "commit", r.IntentCommit)
	return id, nil
}

// EnterPhase records that device is entering phase p in run id; call it
// before acting. persistID "" keeps the device's previous persist id.
// detail says why, or what happened ("lock held by session 7"); for
// PhaseFailed it is also the device's Error. A run or device the journal does
// not hold is ErrNotFound, a finished run ErrFinished.
func (j *Journal) EnterPhase(ctx context.Context, id RunID, device string, p Phase, persistID, detail string) error {
	return j.EnterPhases(ctx, id, []Step{{Device: device, Phase: p, PersistID: persistID, Detail: detail}})
}

// checkRunning returns ErrNotFound or ErrFinished unless run id is running.
func checkRunning(t txn, id RunID) error {
	var o string
	err := t.queryRow(`SELECT outcome FROM runs WHERE id = ?`, id).Scan(&o)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no such run: %w", ErrNotFound)
	}
	if err != nil {
		return err
	}
	if Outcome(o) != Running {
		return fmt.Errorf("outcome %s: %w", o, ErrFinished)
	}
	return nil
}

// FinishRun records how run id ended. o must not be Running; finishing a run
// twice is ErrFinished, an unknown run ErrNotFound.
func (j *Journal) FinishRun(ctx context.Context, id RunID, o Outcome, summary string) error {
	if !o.Valid() || o == Running {
		return fmt.Errorf("journal: finish run %d: invalid outcome %q", id, o)
	}
	at := j.now().UnixNano()
	err := j.write(ctx, func(t txn) error {
		if err := checkRunning(t, id); err != nil {
			return err
		}
		if err := t.fenceRun(id); err != nil {
			return err
		}
		_, err := t.exec(`UPDATE runs SET outcome = ?, summary = ?, finished_at = ? WHERE id = ?`,
			string(o), summary, at, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: finish run %d: %w", id, err)
	}
	j.log.DebugContext(ctx, "run finished", "run", id, "outcome", o)
	return nil
}

// runColumns are the columns of runs (r) that scanRun reads; planColumn is
// the plan, from run_plans (p) joined on the run's id (runsWithPlan).
const (
	runColumns   = `r.id, r.intent_commit, r.started_by, r.atomic, r.started_at, r.finished_at, r.outcome, r.summary`
	planColumn   = `COALESCE(p.plan, '')`
	runsWithPlan = `runs r LEFT JOIN run_plans p ON p.run_id = r.id`
)

// scanRun reads runColumns, then plan when withPlan.
func scanRun(rows interface{ Scan(...any) error }, withPlan bool) (Run, error) {
	var (
		r                 Run
		atomic            int
		started, finished sql.NullInt64
		outcome, plan     string
	)
	dest := []any{&r.ID, &r.IntentCommit, &r.StartedBy, &atomic, &started, &finished, &outcome, &r.Summary}
	if withPlan {
		dest = append(dest, &plan)
	}
	if err := rows.Scan(dest...); err != nil {
		return Run{}, err
	}
	r.Atomic = atomic != 0
	r.StartedAt = fromNanos(started)
	r.FinishedAt = fromNanos(finished)
	r.Outcome = Outcome(outcome)
	if plan != "" {
		var err error
		if r.Plan, err = decodePlan(plan); err != nil {
			// Left as stored: a reader of the plan (recovery) finds it
			// does not decode and says so; the run itself still reads.
			r.Plan = []byte(plan)
		}
	}
	return r, nil
}

// Runs returns the last limit runs (all when limit <= 0), newest first,
// without their plans, each device with its current phase only.
func (j *Journal) Runs(ctx context.Context, limit int) ([]Run, error) {
	return j.RunsBefore(ctx, 0, limit)
}

// RunsBefore is Runs from the run before id on (all runs when id <= 0): the
// pages of a list, each asked for with the last id of the page before.
func (j *Journal) RunsBefore(ctx context.Context, id RunID, limit int) ([]Run, error) {
	var runs []Run
	err := j.read(ctx, func(t txn) error {
		q := `SELECT ` + runColumns + ` FROM runs r`
		var args []any
		if id > 0 {
			q += ` WHERE r.id < ?`
			args = append(args, id)
		}
		q += ` ORDER BY r.id DESC`
		if limit > 0 {
			q += ` LIMIT ?`
			args = append(args, limit)
		}
		var err error
		if runs, err = queryRuns(t, false, q, args...); err != nil || len(runs) == 0 {
			return err
		}
		// The runs listed are exactly those between the oldest and the
		// newest one listed.
		return fillDevices(t, runs, `SELECT run_id, device, phase, persist_id, error FROM device_runs
			WHERE run_id >= ? AND run_id <= ? ORDER BY run_id, device`, runs[len(runs)-1].ID, runs[0].ID)
	})
	if err != nil {
		return nil, fmt.Errorf("journal: runs: %w", err)
	}
	return runs, nil
}

// Unfinished returns the runs still Running, oldest first (the order to
// recover them in), with their plans and devices, without transitions. After
// a clean shutdown it is empty; a run listed here was being applied when its
// process died, or is being applied by another process now.
//
// A fenced journal (a replica) lists only the runs it may settle: those
// whose every device its current lease owns. Another replica's run in
// progress, or a dead one's whose devices are not all claimed yet, waits.
func (j *Journal) Unfinished(ctx context.Context) ([]Run, error) {
	var runs []Run
	err := j.read(ctx, func(t txn) error {
		var err error
		if runs, err = queryRuns(t, true, `SELECT `+runColumns+`, `+planColumn+` FROM `+runsWithPlan+` WHERE r.outcome = ? ORDER BY r.id`,
			string(Running)); err != nil || len(runs) == 0 {
			return err
		}
		return fillDevices(t, runs, `SELECT d.run_id, d.device, d.phase, d.persist_id, d.error
			FROM device_runs d JOIN runs r ON r.id = d.run_id
			WHERE r.outcome = ? ORDER BY d.run_id, d.device`, string(Running))
	})
	if err != nil {
		return nil, fmt.Errorf("journal: unfinished runs: %w", err)
	}
	if j.fenced() && len(runs) > 0 {
		return j.ownedRuns(ctx, runs)
	}
	return runs, nil
}

// Run returns run id with its plan, devices and transitions; ErrNotFound when
// the journal does not hold it.
func (j *Journal) Run(ctx context.Context, id RunID) (*Run, error) {
	var run *Run
	err := j.read(ctx, func(t txn) error {
		runs, err := queryRuns(t, true, `SELECT `+runColumns+`, `+planColumn+` FROM `+runsWithPlan+` WHERE r.id = ?`, id)
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			return ErrNotFound
		}
		run = &runs[0]
		if err := fillDevices(t, runs, `SELECT run_id, device, phase, persist_id, error FROM device_runs
			WHERE run_id = ? ORDER BY device`, id); err != nil {
			return err
		}
		index := make(map[string]int, len(run.Devices))
		for i, d := range run.Devices {
			index[d.Device] = i
		}
		rows, err := t.query(`SELECT device, phase, at, detail, writer FROM transitions WHERE run_id = ? ORDER BY id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				dev, phase string
				tr         Transition
				at         sql.NullInt64
			)
			if err := rows.Scan(&dev, &phase, &at, &tr.Detail, &tr.Writer); err != nil {
				return err
			}
			tr.Phase, tr.At = Phase(phase), fromNanos(at)
			if i, ok := index[dev]; ok {
				run.Devices[i].Transitions = append(run.Devices[i].Transitions, tr)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	return run, nil
}

func queryRuns(t txn, withPlan bool, q string, args ...any) ([]Run, error) {
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows, withPlan)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// fillDevices adds to runs the device rows q returns (run_id, device, phase,
// persist_id, error); rows of runs not in runs are ignored.
func fillDevices(t txn, runs []Run, q string, args ...any) error {
	index := make(map[RunID]int, len(runs))
	for i, r := range runs {
		index[r.ID] = i
	}
	rows, err := t.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    RunID
			d     DeviceRun
			phase string
		)
		if err := rows.Scan(&id, &d.Device, &phase, &d.PersistID, &d.Error); err != nil {
			return err
		}
		d.Phase = Phase(phase)
		if i, ok := index[id]; ok {
			runs[i].Devices = append(runs[i].Devices, d)
		}
	}
	return rows.Err()
}
