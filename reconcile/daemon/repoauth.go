package daemon

import (
	"fmt"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/netrecon/netrecon/gitsrc"
)

// repoAuth reads repo.auth's files into the mirror's options. The secret
// files pass the same mode check as every credential file; the values go to
// the transport only, and gitsrc scrubs them from every error it returns.
// They are read once, at New: a rotated token takes effect at the next
// start (a Kubernetes rollout).
func (d *Daemon) repoAuth() ([]gitsrc.MirrorOption, error) {
	a := d.cfg.Repo.Auth
	if a == nil {
		return nil, nil
	}
	secret := func(field, path string) (string, error) {
		if path == "" {
			return "", nil
		}
		if err := d.checkSecretFile(field, path); err != nil {
			return "", err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", field, err)
		}
		// A Secret written with echo ends in a newline, which is no part of
		// the token.
		v := strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%s %s is empty", field, path)
		}
		return v, nil
	}
	if a.TokenFile != "" || a.PasswordFile != "" {
		field, path := "repo.auth.token_file", a.TokenFile
		if path == "" {
			field, path = "repo.auth.password_file", a.PasswordFile
		}
		v, err := secret(field, path)
		if err != nil {
			return nil, err
		}
		user := a.Username
		if user == "" {
			user = "git"
		}
		return []gitsrc.MirrorOption{gitsrc.WithBasicAuth(user, v)}, nil
	}
	if err := d.checkSecretFile("repo.auth.ssh_key_file", a.SSHKeyFile); err != nil {
		return nil, err
	}
	key, err := os.ReadFile(a.SSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("repo.auth.ssh_key_file: %w", err)
	}
	pass, err := secret("repo.auth.passphrase_file", a.PassphraseFile)
	if err != nil {
		return nil, err
	}
	user := a.Username
	if user == "" {
		user = "git"
		if ep, err := transport.NewEndpoint(d.cfg.Repo.URL); err == nil && ep.User != "" {
			user = ep.User
		}
	}
	return []gitsrc.MirrorOption{gitsrc.WithSSHKey(user, key, pass), gitsrc.WithSSHKnownHosts(a.KnownHostsFile)}, nil
}
