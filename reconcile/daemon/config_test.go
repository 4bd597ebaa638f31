package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exampleDir copies docs/serve.example.yaml into a temporary folder with the
// files it refers to, so the documented example is checked as users get it.
func exampleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("../../docs/serve.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "serve.yaml"), string(data))
	for _, f := range []string{"secrets/credentials.env", "secrets/keyring.asc", "secrets/webhook-secret", "secrets/api-token", "secrets/api-read-token"} {
		write(t, filepath.Join(dir, f), "x\n")
	}
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	t.Setenv("NETRECON_SNMP_COMMUNITY", "public")
	dir := exampleDir(t)
	cfg, err := LoadConfig(filepath.Join(dir, "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.StateDir, filepath.Join(dir, "state"); got != want {
		t.Errorf("state_dir = %s, want %s (relative to the config)", got, want)
	}
	if cfg.PollInterval.D() != time.Minute || cfg.Retry.Max.D() != 10*time.Minute || cfg.Alarm.AfterFailures != 3 {
		t.Errorf("durations or counts not read: %+v", cfg)
	}
	if cfg.Drift.Devices["pe3-sin"] != Report || cfg.Drift.Services["acme-tokyo-hq"] != Report {
		t.Errorf("drift overrides = %+v", cfg.Drift)
	}
	if len(cfg.Guards.FreezeWindows) != 2 || cfg.Guards.SNMP == nil || cfg.Guards.SNMP.Threshold != 0 {
		t.Errorf("guards = %+v", cfg.Guards)
	}
}

func TestMinimalConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig([]byte("repo: {url: file:///srv/intent.git}\nstate_dir: /var/lib/netrecon\n"), filepath.Join(dir, "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Repo.Branch != "main" || cfg.Concurrency != 10 || cfg.Drift.Default != Heal ||
		cfg.KnownHosts != "/var/lib/netrecon/known_hosts" || cfg.Webhook.MaxBody != 1<<20 {
		t.Errorf("defaults not filled: %+v", cfg)
	}
}

func TestBadConfigReportsEveryProblemWithPosition(t *testing.T) {
	t.Setenv("NETRECON_TEST_UNSET", "")
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{
			name: "many at once",
			yaml: `repo:
  url: file:///srv/intent.git
  branc: main
state_dir: /tmp/x
poll_interval: soon
concurrency: many
drift:
  default: fix
  devices:
    pe1: ignore
retry:
  base: 1m
  max: 10s
notify:
  url: ftp://example.net/
guards:
  snmp:
    community_env: NETRECON_TEST_UNSET
    oid: sysUpTime
`,
			want: []string{
				`c.yaml:3:3: repo.branc: unknown setting; repo takes url, path, branch`,
				`c.yaml:5:16: poll_interval: "soon" is not a duration`,
				`c.yaml:6:14: concurrency: cannot unmarshal !!str ` + "`many`" + ` into int`,
			},
		},
		{
			name: "checks after decoding",
			yaml: `repo:
  url: file:///srv/intent.git
state_dir: /tmp/x
drift:
  default: fix
  devices:
    pe1: ignore
retry:
  base: 1m
  max: 10s
notify:
  url: ftp://example.net/
guards:
  snmp:
    community_env: NETRECON_TEST_UNSET
    oid: sysUpTime
api:
  token_file: /nonexistent/token
`,
			want: []string{
				`c.yaml:5:3: drift.default: "fix": want heal or report`,
				`c.yaml:7:5: drift.devices.pe1: "ignore": want heal or report`,
				`c.yaml:10:3: retry.max: 10s is below retry.base 1m0s`,
				`c.yaml:12:3: notify.url: "ftp://example.net/": want an http:// or https:// URL`,
				`c.yaml:15:5: guards.snmp.community_env: environment variable NETRECON_TEST_UNSET is not set`,
				`c.yaml:16:5: guards.snmp.oid: "sysUpTime": want a numeric OID`,
				`c.yaml:18:3: api.token_file: stat /nonexistent/token: no such file or directory`,
			},
		},
		{
			name: "sessions",
			yaml: "repo: {url: file:///x}\nstate_dir: /tmp/x\nsessions:\n  keepalive: -5s\n  idle_timeout: soon\n  reconnect: {base: 1m, max: 1s}\n",
			want: []string{
				`c.yaml:5:17: sessions.idle_timeout: "soon" is not a duration`,
			},
		},
		{
			name: "sessions after decoding",
			yaml: "repo: {url: file:///x}\nstate_dir: /tmp/x\nsessions:\n  keepalive: -5s\n  reconnect: {base: 1m, max: 1s}\n",
			want: []string{
				`c.yaml:4:3: sessions.keepalive: -5s: want a positive duration`,
				`c.yaml:5:25: sessions.reconnect.max: 1s is below sessions.reconnect.base 1m0s`,
			},
		},
		{
			name: "freeze window",
			yaml: "repo: {url: file:///x}\nstate_dir: /tmp/x\nguards:\n  freeze_windows:\n    - name: xmas\n      start: tomorrow\n      end: 2026-12-26T00:00:00Z\n",
			want: []string{`c.yaml:5:7: guards.freeze_windows[0]: `, `start`},
		},
		{
			name: "missing required",
			yaml: "listen: nowhere\n",
			want: []string{
				`c.yaml:1:1: repo: set url`,
				`c.yaml:1:1: state_dir: required`,
				`c.yaml:1:1: listen: "nowhere": want host:port`,
			},
		},
		{
			name: "shared journal",
			yaml: "repo: {url: file:///x}\nstate_dir: /tmp/x\nstate:\n  database: postgres://netrecon:hunter2@db/netrecon\n  replica: {id: a b, lease_ttl: 500ms, renew: 1s}\n",
			want: []string{
				`c.yaml:4:3: state.database: the URL holds a password: name a file (?password_file=`,
				`c.yaml:5:13: state.replica.id: "a b": want a name without spaces`,
				`state.replica.lease_ttl: 500ms: want at least 1s`,
				`state.replica.renew: 1s: want more than 0 and at most half of lease_ttl`,
			},
		},
		{
			name: "repo auth ssh without known hosts",
			yaml: "repo:\n  url: git@git.example.net:netops/intent.git\n  auth: {ssh_key_file: /nonexistent/key}\nstate_dir: /tmp/x\n",
			want: []string{
				`repo.auth.known_hosts_file: required with ssh_key_file: the Git server's host key is never accepted unchecked`,
				`repo.auth.ssh_key_file: stat /nonexistent/key: no such file`,
			},
		},
		{
			name: "repo auth token for ssh",
			yaml: "repo:\n  url: ssh://git@git.example.net/intent.git\n  auth: {token_file: /nonexistent/t}\nstate_dir: /tmp/x\n",
			want: []string{`c.yaml:3:3: repo.auth: token_file and password_file are for an https URL`},
		},
		{
			name: "repo auth key for https",
			yaml: "repo:\n  url: https://git.example.net/intent.git\n  auth: {ssh_key_file: /k, known_hosts_file: /kh}\nstate_dir: /tmp/x\n",
			want: []string{`repo.auth: ssh_key_file is for an ssh URL`},
		},
		{
			name: "repo auth both https secrets",
			yaml: "repo:\n  url: https://git.example.net/intent.git\n  auth: {token_file: /nonexistent/t, password_file: /nonexistent/p}\nstate_dir: /tmp/x\n",
			want: []string{`repo.auth.password_file: set token_file or password_file, not both`},
		},
		{
			name: "repo auth for a local path",
			yaml: "repo:\n  path: /tmp\n  auth: {token_file: /nonexistent/t}\nstate_dir: /tmp/x\n",
			want: []string{`repo.auth: a repo on this machine (repo.path) takes no credentials`},
		},
		{
			name: "shared journal not postgres",
			yaml: "repo: {url: file:///x}\nstate_dir: /tmp/x\nstate: {database: mysql://u@db/x}\n",
			want: []string{`state.database: "mysql://u@db/x": want a postgres:// URL`},
		},
		{
			name: "api tokens",
			yaml: "repo: {url: file:///x}\nstate_dir: /tmp/x\napi:\n  tokens:\n    - {name: noc, file: /nonexistent/noc, scope: admin}\n    - {file: /nonexistent/x, scope: read}\n    - {name: noc, scope: write}\n",
			want: []string{
				`c.yaml:5:43: api.tokens[0].scope: invalid value "admin": must be one of "order", "read", "trigger", "write"`,
			},
		},
		{
			name: "api tokens after decoding",
			yaml: "repo: {url: file:///x}\nstate_dir: /tmp/x\napi:\n  tokens:\n    - {name: noc, file: /nonexistent/noc, scope: write}\n    - {file: /nonexistent/x, scope: read}\n    - {name: noc, scope: write}\n",
			want: []string{
				`api.tokens[0].file: stat /nonexistent/noc: no such file`,
				`api.tokens[1].name: required`,
				`api.tokens[2].name: "noc": a second token of that name`,
				`api.tokens[2].file: required`,
			},
		},
		{
			name: "syntax",
			yaml: "repo:\n  url: [\n",
			want: []string{`c.yaml:2:1: did not find expected node content`},
		},
		{
			name: "wrong shapes",
			yaml: "repo: file:///x\nstate_dir: [a]\ndrift: {devices: [a]}\n",
			want: []string{
				`c.yaml:1:7: repo: want a mapping of settings`,
				`c.yaml:2:12: state_dir: want a single value, not a list`,
				`c.yaml:3:18: drift.devices: want a mapping`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml), "c.yaml")
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q; got:\n%s", w, msg)
				}
			}
		})
	}
}

func TestOneDaemonPerStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	l, err := lockState(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockState(dir)
	var le *StateLockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "in use by another netrecon daemon") {
		t.Fatalf("second lock: err = %v, want *StateLockedError", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := lockState(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l2.Unlock()
}
