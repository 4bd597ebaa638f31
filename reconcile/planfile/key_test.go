package planfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/reconcile/plan"
)

const refusedMAC = "edited outside netrecon or made with another state folder: re-run plan"

func signed(t *testing.T, k *Key) []byte {
	t.Helper()
	p, desired, live := fixture(t)
	var buf bytes.Buffer
	if err := WriteSigned(&buf, k, p, desired, live); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSignedRoundTrip(t *testing.T) {
	k, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := signed(t, k)
	got, desired, err := ReadSigned(bytes.NewReader(b), k)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Devices) != 3 || desired["pe1"] == nil {
		t.Fatalf("read %+v", got)
	}
	// The journal reads its copies without a key.
	if _, _, err := Read(bytes.NewReader(b)); err != nil {
		t.Errorf("Read of a signed file: %v", err)
	}
}

// TestSignedRefusesAnyEdit: every byte of a signed file is covered; a
// file with one byte changed, wherever it is, is refused.
func TestSignedRefusesAnyEdit(t *testing.T) {
	k, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good := signed(t, k)
	// Every byte of the head (the MAC and the version) and of the tail,
	// every 7th between: enough to see that no region escapes the MAC,
	// cheap enough under -race.
	b := bytes.Clone(good)
	for i := 0; i < len(b); i++ {
		if i >= 256 && i < len(b)-64 && i%7 != 0 {
			continue
		}
		b[i] ^= 0x01
		if _, _, err := ReadSigned(bytes.NewReader(b), k); err == nil {
			t.Fatalf("byte %d (%q) edited: accepted", i, good[i])
		}
		b[i] = good[i]
	}
	// An edit that keeps the JSON valid gets the message that says what
	// to do.
	b = bytes.Replace(good, []byte("by hand"), []byte("by hanD"), 1)
	_, _, err = ReadSigned(bytes.NewReader(b), k)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), refusedMAC) {
		t.Errorf("err = %v, want %q", err, refusedMAC)
	}
	// So does an unsigned file (the journal's form, or a version 2 file
	// whose MAC was removed).
	var plain bytes.Buffer
	p, desired, _ := fixture(t)
	if err := Write(&plain, p, desired, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadSigned(&plain, k); err == nil || !strings.Contains(err.Error(), refusedMAC) {
		t.Errorf("unsigned file: err = %v", err)
	}
	// A file of another version says so, signed or not.
	old := bytes.Replace(good, []byte(`"format_version": 3`), []byte(`"format_version": 1`), 1)
	if _, _, err := ReadSigned(bytes.NewReader(old), k); err == nil || !strings.Contains(err.Error(), "format_version 1") {
		t.Errorf("version 1 file: err = %v", err)
	}
}

func TestSignedRefusesOtherStateFolder(t *testing.T) {
	a, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ReadSigned(bytes.NewReader(signed(t, a)), b)
	if err == nil || !strings.Contains(err.Error(), refusedMAC) {
		t.Errorf("err = %v, want %q", err, refusedMAC)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() != keyLen {
		t.Errorf("key file: mode %v, %d bytes", st.Mode(), st.Size())
	}
	k2, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1.b, k2.b) {
		t.Error("a second LoadKey made a new key")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("state folder holds %d files, want the key only", len(entries))
	}
	for _, s := range []string{fmt.Sprint(k1), fmt.Sprintf("%v %+v %#v %s", k1, k1, k1, k1)} {
		if strings.Contains(s, fmt.Sprintf("%x", k1.b)) || strings.Contains(s, string(k1.b)) || strings.Contains(s, fmt.Sprint(k1.b)) {
			t.Errorf("key printed: %s", s)
		}
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable key: err = %v", err)
	}
	short := t.TempDir()
	if err := os.WriteFile(filepath.Join(short, KeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(short); err == nil || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("short key: err = %v", err)
	}
}

// The pre-existing nodes a live plan adopts, keeps and shares survive the
// file, and a fresh plan that differs in them is a different plan: applying
// records them.
func TestSignedKeepsHeldNodes(t *testing.T) {
	k, err := LoadKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	held := []configtree.Held{{Path: "/interfaces/interface[name=ge-0/0/5]/description", Leaf: true, Value: `"by hand"`, Owners: []string{"acme"}}}
	p := &plan.Plan{Mode: plan.Live, Devices: []*plan.Device{{Name: "pe1", Platform: "ietf", Adopted: held, Kept: held, Claimed: held}}}
	var buf bytes.Buffer
	if err := WriteSigned(&buf, k, p, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadSigned(bytes.NewReader(buf.Bytes()), k)
	if err != nil {
		t.Fatal(err)
	}
	d := got.Devices[0]
	for name, hs := range map[string][]configtree.Held{"adopted": d.Adopted, "kept": d.Kept, "claimed": d.Claimed} {
		if len(hs) != 1 || hs[0].Path != held[0].Path || hs[0].Value != held[0].Value {
			t.Errorf("%s after the round trip: %+v", name, hs)
		}
	}
	if err := Compare(got, p); err != nil {
		t.Errorf("Compare with itself: %v", err)
	}
	fresh := &plan.Plan{Mode: plan.Live, Devices: []*plan.Device{{Name: "pe1", Platform: "ietf", Kept: held, Claimed: held}}}
	if err := Compare(got, fresh); err == nil || !strings.Contains(err.Error(), "adopted") {
		t.Errorf("Compare with a plan that adopts nothing: %v", err)
	}
}
