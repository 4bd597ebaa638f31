package netconf

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/netrecon/netrecon/schema"
)

// Auth is how a session proves who it is: a password or a private key. Its
// secret never leaves it: String, GoString, Format and LogValue print only
// the kind and where the secret came from, so an Auth (or a Target holding one)
// may be logged or wrapped into errors safely.
type Auth struct {
	password string
	signer   ssh.Signer
	source   string // "env NAME", "file PATH", "literal": where it came from, not what it is
}

// PasswordAuth is SSH password authentication (also tried as
// keyboard-interactive, which many devices use for passwords).
func PasswordAuth(p string) Auth {
	return Auth{password: p, source: "literal"}
}

// KeyFileAuth reads an unencrypted private key (OpenSSH, PKCS#1/8 or SEC1 PEM).
func KeyFileAuth(path string) (Auth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Auth{}, fmt.Errorf("ssh key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return Auth{}, fmt.Errorf("ssh key %s is protected by a passphrase, which netrecon does not support: use an agent-less key kept outside the repo", path)
		}
		// The parser's messages describe the format, never the key's bytes.
		return Auth{}, fmt.Errorf("ssh key %s: %w", path, err)
	}
	return Auth{signer: signer, source: "file " + path}, nil
}

// IsZero reports an Auth with no secret.
func (a Auth) IsZero() bool { return a.password == "" && a.signer == nil }

func (a Auth) kind() string {
	switch {
	case a.signer != nil:
		return "key " + a.signer.PublicKey().Type()
	case a.password != "":
		return "password"
	default:
		return "none"
	}
}

// String describes the Auth without its secret.
func (a Auth) String() string {
	if a.source == "" {
		return "Auth(" + a.kind() + ", redacted)"
	}
	return "Auth(" + a.kind() + " from " + a.source + ", redacted)"
}

// GoString is String: %#v must not reveal the secret either.
func (a Auth) GoString() string { return a.String() }

// Format writes String for every verb (%v, %+v, %#v, %s, %q, %x...).
func (a Auth) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// LogValue makes slog log the redacted form.
func (a Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

func (a Auth) methods() []ssh.AuthMethod {
	switch {
	case a.signer != nil:
		return []ssh.AuthMethod{ssh.PublicKeys(a.signer)}
	case a.password != "":
		p := a.password
		return []ssh.AuthMethod{
			ssh.Password(p),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = p
				}
				return answers, nil
			}),
		}
	}
	return nil
}

// CredentialOption configures ResolveCredentials.
type CredentialOption func(*credConfig)

type credConfig struct {
	insecure func(*schema.InsecureFileError) error
}

// OnInsecureFile decides what a credential file with group or other
// permission bits means: an error from fn refuses the credentials, nil uses
// them (fn warning first, as the CLI does). Without it such a file is
// refused.
func OnInsecureFile(fn func(*schema.InsecureFileError) error) CredentialOption {
	return func(c *credConfig) { c.insecure = fn }
}

// ResolveCredentials turns references to a secret into an Auth: a password from
// an environment variable (PasswordEnv) or a file (PasswordFile), or a private
// key file (KeyFile); exactly one must be set. A file inside repoDir is refused:
// secrets never live in the intent repo (DESIGN invariant 7). A file that its
// group or others may access is an *schema.InsecureFileError unless OnInsecureFile
// says otherwise. Relative paths are relative to the working directory. Errors
// name the reference, never the secret.
func ResolveCredentials(c schema.Credentials, repoDir string, opts ...CredentialOption) (Auth, error) {
	cfg := credConfig{insecure: func(e *schema.InsecureFileError) error { return e }}
	for _, o := range opts {
		o(&cfg)
	}
	checkMode := func(path string) error {
		var ie *schema.InsecureFileError
		if err := schema.CheckFileMode(path); errors.As(err, &ie) {
			return cfg.insecure(ie)
		}
		return nil // a file that cannot be read fails below, with its cause
	}
	set := 0
	for _, s := range []string{c.PasswordEnv, c.PasswordFile, c.KeyFile} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return Auth{}, fmt.Errorf("credentials for %q: set exactly one of passwordEnv, passwordFile, keyFile (got %d)", c.Username, set)
	}
	switch {
	case c.PasswordEnv != "":
		p, ok := os.LookupEnv(c.PasswordEnv)
		if !ok || p == "" {
			return Auth{}, fmt.Errorf("credentials for %q: environment variable %s is unset or empty", c.Username, c.PasswordEnv)
		}
		return Auth{password: p, source: "env " + c.PasswordEnv}, nil
	case c.PasswordFile != "":
		path, err := secretPath(c.PasswordFile, repoDir)
		if err != nil {
			return Auth{}, fmt.Errorf("credentials for %q: %w", c.Username, err)
		}
		if err := checkMode(path); err != nil {
			return Auth{}, fmt.Errorf("credentials for %q: %w", c.Username, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return Auth{}, fmt.Errorf("credentials for %q: %w", c.Username, err)
		}
		// A file written with echo ends in a newline that is not part of the password.
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return Auth{}, fmt.Errorf("credentials for %q: password file %s is empty", c.Username, path)
		}
		return Auth{password: p, source: "file " + path}, nil
	default:
		path, err := secretPath(c.KeyFile, repoDir)
		if err != nil {
			return Auth{}, fmt.Errorf("credentials for %q: %w", c.Username, err)
		}
		if err := checkMode(path); err != nil {
			return Auth{}, fmt.Errorf("credentials for %q: %w", c.Username, err)
		}
		a, err := KeyFileAuth(path)
		if err != nil {
			return Auth{}, fmt.Errorf("credentials for %q: %w", c.Username, err)
		}
		return a, nil
	}
}

// secretPath makes p absolute and refuses it when it lies inside repoDir,
// following symbolic links on both sides so a link cannot smuggle a repo file in.
func secretPath(p, repoDir string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if repoDir == "" {
		return abs, nil
	}
	repo, err := filepath.Abs(repoDir)
	if err != nil {
		return "", err
	}
	for _, cand := range [][2]string{{abs, repo}, {evalOr(abs), evalOr(repo)}} {
		if rel, err := filepath.Rel(cand[1], cand[0]); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("secret file %s is inside the intent repo %s: keep secrets out of Git", p, repoDir)
		}
	}
	return abs, nil
}

func evalOr(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
