package netsim

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/netrecon/netrecon/configtree"
)

// With Options.StateDir a device keeps what a real router keeps across a
// restart, in StateDir/<device>/:
//
//	ssh_host_ed25519_key  its host key (OpenSSH format, mode 0600), so a
//	                      client's known_hosts stays valid
//	running.xml           the configuration it comes back with: running, or,
//	                      while a confirmed commit is pending, the
//	                      configuration before it (a router restarted before
//	                      the confirm comes back without the change)
//
// The files are read at Start and written whenever that configuration
// changes, so a simulator killed without Close keeps what it had committed.

const (
	hostKeyFile = "ssh_host_ed25519_key"
	runningFile = "running.xml"
)

// deviceDir is the device's folder in the state folder, "" without one.
func (s *Sim) deviceDir(name string) (string, error) {
	if s.opts.StateDir == "" {
		return "", nil
	}
	if name == "." || name == ".." || filepath.Base(name) != name {
		return "", fmt.Errorf("netsim: device %q: the name cannot be a folder of the state folder", name)
	}
	dir := filepath.Join(s.opts.StateDir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("netsim: device %s: state: %w", name, err)
	}
	return dir, nil
}

// loadHostKey reads the device's host key from dir, or makes one and writes
// it there; with dir "" it makes one.
func loadHostKey(dir string) (ssh.Signer, error) {
	if dir == "" {
		return newHostKey()
	}
	path := filepath.Join(dir, hostKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("netsim: host key %s: %w", path, err)
		}
		return signer, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("netsim: host key: %w", err)
	}
	return writeHostKey(path)
}

// writeHostKey makes a new host key and writes it to path.
func writeHostKey(path string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("netsim: host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "netsim")
	if err != nil {
		return nil, fmt.Errorf("netsim: host key: %w", err)
	}
	if err := writeAtomic(path, pem.EncodeToMemory(block)); err != nil {
		return nil, fmt.Errorf("netsim: host key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}

// loadRunning reads the configuration the device comes back with; an empty
// tree when dir is "" or holds none yet.
func loadRunning(dir string, keys configtree.Keys) (*configtree.Tree, error) {
	if dir == "" {
		return emptyTree(), nil
	}
	path := filepath.Join(dir, runningFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return emptyTree(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("netsim: %w", err)
	}
	t, err := parseConfig(b, keys)
	if err != nil {
		return nil, fmt.Errorf("netsim: %s: %w", path, err)
	}
	return t, nil
}

// saveLocked writes the configuration the device would come back with, if
// it changed since the last write; d.mu must be held. A failure is logged:
// the simulated router goes on, as one whose flash is full would.
func (d *Device) saveLocked() {
	if d.stateDir == "" {
		return
	}
	durable := d.running
	if d.confirm != nil {
		durable = d.confirm.preImage
	}
	if durable == d.saved {
		return // trees are never changed in place: same pointer, same tree
	}
	var b bytes.Buffer
	b.WriteString("<data>\n")
	err := durable.WriteXML(&b, configtree.WriteOptions{Indent: "  "})
	if err == nil {
		b.WriteString("</data>\n")
		err = writeAtomic(filepath.Join(d.stateDir, runningFile), b.Bytes())
	}
	if err != nil {
		d.sim.log.Warn("saving running failed", "device", d.Name, "err", err)
		return
	}
	d.saved = durable
}

// writeAtomic writes through a temporary file and a rename, mode 0600, so a
// restart never reads a file half written.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
