package planfile

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the signing key in the state folder.
const KeyFile = "plan.key"

const (
	keyLen    = 32 // bytes: the HMAC-SHA256 block size is larger, the output size is this
	macScheme = "hmac-sha256:"
	macHexLen = 2 * sha256.Size
	// macHeader is how every signed file starts: the encoder writes the
	// MAC field first, so its hex digits sit at a fixed offset.
	macHeader = "{\n \"mac\": \"" + macScheme
)

// Key signs and verifies plan files (RFC 2104 HMAC with SHA-256). Its bytes
// never leave it: it prints as "planfile.Key(redacted)".
type Key struct {
	b []byte
}

func (k *Key) String() string   { return "planfile.Key(redacted)" }
func (k *Key) GoString() string { return k.String() }

// LoadKey reads the signing key of the state folder dir, creating it (32
// random bytes, mode 0600) on first use. A key file that others can read or
// write is refused: whoever reads it can sign a plan file.
func LoadKey(dir string) (*Key, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKey(dir, path); err != nil {
			return nil, err
		}
		b, err = readKey(path)
	}
	if err != nil {
		return nil, err
	}
	return &Key{b: b}, nil
}

func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("plan key: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("plan key %s: mode %04o lets group or other read or write it: chmod 600 it, or delete it and re-run plan", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, keyLen+1))
	if err != nil {
		return nil, fmt.Errorf("plan key: %w", err)
	}
	if len(b) != keyLen {
		return nil, fmt.Errorf("plan key %s: %d bytes, want %d: delete it and re-run plan", path, len(b), keyLen)
	}
	return b, nil
}

// createKey writes a new key beside path and links it into place, so that
// two netrecons starting at once agree on one key and neither reads a half
// written file.
func createKey(dir, path string) error {
	b := make([]byte, keyLen)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("plan key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".plan.key-*")
	if err != nil {
		return fmt.Errorf("plan key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("plan key: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("plan key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("plan key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("plan key: %w", err)
	}
	return nil
}

// mac is the hex HMAC of a signed file, computed with the MAC's own digits
// set to '0'.
func (k *Key) mac(file []byte) []byte {
	end := len(macHeader) + macHexLen
	h := hmac.New(sha256.New, k.b)
	h.Write(file[:len(macHeader)])
	h.Write(bytes.Repeat([]byte("0"), macHexLen))
	h.Write(file[end:])
	return []byte(hex.EncodeToString(h.Sum(nil)))
}

// verify reports whether file carries a valid MAC under k, compared in
// constant time.
func (k *Key) verify(file []byte) bool {
	end := len(macHeader) + macHexLen
	if len(file) <= end || !bytes.HasPrefix(file, []byte(macHeader)) || file[end] != '"' {
		return false
	}
	return hmac.Equal(k.mac(file), file[len(macHeader):end])
}
