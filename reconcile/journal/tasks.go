package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Task is a manual step of one service: something only a person can do
// (a registry's web form), tracked until marked done.
type Task struct {
	Service string
	Step    string
	Title   string
	// Data is the step's rendered values as JSON; DataHash identifies them.
	Data     string
	DataHash string
	OpenedAt time.Time // when it was opened, or last reopened
	Reopened int       // how often changed data reopened it
	DoneBy   string
	DoneAt   time.Time // zero: open
	// Reference is what the person recorded with done: a registry's ticket.
	Reference string
}

// Open reports whether the task still waits for a person.
func (t Task) Open() bool { return t.DoneAt.IsZero() }

// Holds reports whether the task keeps its service from being configured:
// open, and never done. A task reopened by changed values is listed (and
// alarmed) but does not take a running service down.
func (t Task) Holds() bool { return t.Open() && t.Reopened == 0 }

// TaskSpec is a task as the intent of the followed commit asks for it.
type TaskSpec struct {
	Service, Step, Title, Data, DataHash string
}

// BaselineBy is who a baseline sync marks its tasks done by.
const BaselineBy = "netrecon (baseline)"

// keyTasksBaseline records that the journal's tasks were synced once, and
// at which revision. The name predates the CLI's use of it: daemon and CLI
// share one baseline per journal.
const keyTasksBaseline = "daemon/tasks-baseline"

// TasksBaselined reports whether the tasks were synced once (SyncTaskSpecs):
// until then, the first sync records every task done.
func (j *Journal) TasksBaselined(ctx context.Context) (bool, error) {
	v, err := j.State(ctx, keyTasksBaseline)
	if err != nil {
		return false, fmt.Errorf("journal: tasks baseline: %w", err)
	}
	return v != "", nil
}

// SyncTaskSpecs is SyncTasks with the baseline decided by the journal: the
// first sync of a journal is the baseline, recorded with rev (the intent
// revision it met). The daemon and the CLI both sync through it, so that a
// CLI sharing the daemon's state folder holds the same services.
func (j *Journal) SyncTaskSpecs(ctx context.Context, specs []TaskSpec, rev string) ([]Task, error) {
	done, err := j.TasksBaselined(ctx)
	if err != nil {
		return nil, err
	}
	tasks, err := j.SyncTasks(ctx, specs, !done)
	if err != nil {
		return nil, err
	}
	if !done {
		if rev == "" {
			rev = "(no revision)" // an empty value reads as no baseline
		}
		if err := j.SetState(ctx, keyTasksBaseline, rev); err != nil {
			return nil, fmt.Errorf("journal: tasks baseline: %w", err)
		}
	}
	return tasks, nil
}

// SyncTasks makes the tasks those of specs: a new one opens, one whose data
// changed reopens (the values typed before are no longer the intent's), one
// whose service or step left the intent is forgotten. It returns the tasks
// after the sync, by service and step.
//
// With baseline, new tasks are recorded done by BaselineBy: the first sync
// of a journal meets services that were running before netrecon tracked
// their steps (a daemon adopting a repo, or one upgraded to this schema),
// whose steps a person did long ago.
func (j *Journal) SyncTasks(ctx context.Context, specs []TaskSpec, baseline bool) ([]Task, error) {
	at := j.now().UnixNano()
	var doneBy string
	var doneAt any
	if baseline {
		doneBy, doneAt = BaselineBy, at
	}
	err := j.write(ctx, func(t txn) error {
		wanted := make(map[[2]string]bool, len(specs))
		for _, s := range specs {
			wanted[[2]string{s.Service, s.Step}] = true
			if _, err := t.exec(`INSERT INTO tasks (service, step, title, data, data_hash, opened_at, done_by, done_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (service, step) DO UPDATE SET title = excluded.title, data = excluded.data,
					data_hash = excluded.data_hash,
					opened_at = CASE WHEN tasks.data_hash = excluded.data_hash THEN tasks.opened_at ELSE excluded.opened_at END,
					reopened = CASE WHEN tasks.data_hash = excluded.data_hash OR tasks.done_at IS NULL THEN tasks.reopened ELSE tasks.reopened + 1 END,
					done_by = CASE WHEN tasks.data_hash = excluded.data_hash THEN tasks.done_by ELSE '' END,
					reference = CASE WHEN tasks.data_hash = excluded.data_hash THEN tasks.reference ELSE '' END,
					done_at = CASE WHEN tasks.data_hash = excluded.data_hash THEN tasks.done_at ELSE NULL END`,
				s.Service, s.Step, s.Title, s.Data, s.DataHash, at, doneBy, doneAt); err != nil {
				return err
			}
		}
		rows, err := t.query(`SELECT service, step FROM tasks`)
		if err != nil {
			return err
		}
		var gone [][2]string
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				rows.Close()
				return err
			}
			if !wanted[k] {
				gone = append(gone, k)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range gone {
			if _, err := t.exec(`DELETE FROM tasks WHERE service = ? AND step = ?`, k[0], k[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: sync tasks: %w", err)
	}
	return j.Tasks(ctx)
}

// Tasks returns every task, by service and step.
func (j *Journal) Tasks(ctx context.Context) ([]Task, error) {
	var out []Task
	err := j.read(ctx, func(t txn) error {
		rows, err := t.query(`SELECT service, step, title, data, data_hash, opened_at, reopened, done_by, done_at, reference
			FROM tasks ORDER BY service, step`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k Task
			var opened int64
			var done sql.NullInt64
			if err := rows.Scan(&k.Service, &k.Step, &k.Title, &k.Data, &k.DataHash, &opened, &k.Reopened, &k.DoneBy, &done, &k.Reference); err != nil {
				return err
			}
			k.OpenedAt, k.DoneAt = time.Unix(0, opened), fromNanos(done)
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal: tasks: %w", err)
	}
	return out, nil
}

// DoneTask marks the task of service and step done by who, with the
// person's reference. Marking a done task again updates who and the
// reference. ErrNotFound when the intent asks for no such task.
func (j *Journal) DoneTask(ctx context.Context, service, step, who, reference string) (Task, error) {
	at := j.now().UnixNano()
	var n int64
	err := j.write(ctx, func(t txn) error {
		res, err := t.exec(`UPDATE tasks SET done_by = ?, reference = ?, done_at = ? WHERE service = ? AND step = ?`,
			who, reference, at, service, step)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return Task{}, fmt.Errorf("journal: task %s/%s done: %w", service, step, err)
	}
	tasks, err := j.Tasks(ctx)
	if err != nil {
		return Task{}, err
	}
	for _, k := range tasks {
		if k.Service == service && k.Step == step {
			return k, nil
		}
	}
	return Task{}, fmt.Errorf("journal: task %s/%s: %w", service, step, ErrNotFound)
}
