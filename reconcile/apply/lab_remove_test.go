package apply

import "testing"

// TestLabRollbackUndoFromRunning is TestRollbackUndoFromRunning on the lab's
// netconfd, whose refusal of a remove under an absent parent the netsim knob
// models: the plain-commit rollback of a run that lost part of itself brings
// the device back to its pre-image.
func TestLabRollbackUndoFromRunning(t *testing.T) {
	l := newLab(t, 1)
	rollbackUndoCase(t, l.inv, l.dialer, "lab1")
}

// TestLabApplyRemovalOutrun is TestApplyRemovalOutrun on the lab's netconfd.
func TestLabApplyRemovalOutrun(t *testing.T) {
	l := newLab(t, 1)
	removalOutrunCase(t, l.inv, l.dialer, "lab1")
}

// TestLabRecoverUndoFromRunning is TestRecoverUndoFromRunning on the lab.
func TestLabRecoverUndoFromRunning(t *testing.T) {
	l := newLab(t, 2)
	recoverUndoCase(t, nil, l.inv, l.dialer, "lab1", "lab2")
}
