package daemon

import (
	_ "embed"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/netrecon/netrecon/diag"
	"github.com/netrecon/netrecon/reconcile/guard"
	"github.com/netrecon/netrecon/reconcile/journal"
	"github.com/netrecon/netrecon/schema"
)

// serveCUE is the schema of the config file: which settings exist, and
// their types.
//
//go:embed serve.cue
var serveCUE string

// Config is the daemon's configuration file (docs/daemon.md, docs/serve.example.yaml).
// LoadConfig reads it, fills in defaults and checks it; a Config built in code
// should go through Defaults and Check as well.
type Config struct {
	Repo RepoConfig `yaml:"repo"`
	// PollInterval is the time between two passes when nothing triggers one.
	PollInterval Duration `yaml:"poll_interval"`
	// StateDir holds the journal, the repo mirror and the lock that keeps a
	// second daemon away from the same state.
	StateDir string `yaml:"state_dir"`
	// Listen is the HTTP address of the health, metrics, API and webhook
	// endpoints; "" serves none.
	Listen      string            `yaml:"listen"`
	Credentials CredentialsConfig `yaml:"credentials"`
	// KnownHosts is the known_hosts file with the devices' SSH host keys
	// (default STATE/known_hosts).
	KnownHosts string `yaml:"known_hosts"`
	// Concurrency bounds the devices talked to at once.
	Concurrency int `yaml:"concurrency"`
	// LockWait is how long apply waits for a device's datastore lock held by
	// someone else before it gives up on the device for this pass.
	LockWait Duration `yaml:"lock_wait"`
	// ConfirmTimeout is the confirmed-commit timeout: a device not confirmed
	// within it rolls back by itself.
	ConfirmTimeout Duration `yaml:"confirm_timeout"`
	// DialTimeout, RPCTimeout and SettleAfterHello tune the NETCONF driver
	// (see drivers/netconf).
	DialTimeout      Duration `yaml:"dial_timeout"`
	RPCTimeout       Duration `yaml:"rpc_timeout"`
	SettleAfterHello Duration `yaml:"settle_after_hello"`
	// PassTimeout bounds one whole pass (plan and apply).
	PassTimeout Duration `yaml:"pass_timeout"`
	// Sessions tunes the pool of device sessions kept open between passes.
	Sessions SessionsConfig `yaml:"sessions"`

	Guards    GuardsConfig    `yaml:"guards"`
	Drift     DriftConfig     `yaml:"drift"`
	Retry     RetryConfig     `yaml:"retry"`
	Alarm     AlarmConfig     `yaml:"alarm"`
	Notify    NotifyConfig    `yaml:"notify"`
	Signature SignatureConfig `yaml:"signature"`
	Webhook   WebhookConfig   `yaml:"webhook"`
	API       APIConfig       `yaml:"api"`
	// Tasks tunes the manual steps of service types (docs/daemon.md).
	Tasks TasksConfig `yaml:"tasks"`
	// IRR is how the daemon reaches the IRR databases irr/settings.yaml
	// names (docs/irr.md); with no SMTPRelay it registers nothing.
	IRR IRRConfig `yaml:"irr"`
	// Usage measures each service's interface over SNMP (docs/usage.md);
	// nil leaves it off.
	Usage *UsageConfig `yaml:"usage"`
	// Orders enables the order API (POST /api/v1/orders, docs/orders.md);
	// nil leaves it off.
	Orders *OrdersConfig `yaml:"orders"`
	// State says where the journal lives, and how replicas that share one
	// database hold their leases (docs/ha.md).
	State StateConfig `yaml:"state"`
	// Health tunes the readiness probe (/readyz).
	Health HealthConfig `yaml:"health"`

	// File is the file the config was read from ("" when built in code).
	File string `yaml:"-"`
	// src is the file as read, for the place of each setting.
	src *schema.YAMLFile
}

// StateConfig is the journal's database and the replica's lease.
type StateConfig struct {
	// Database is "" for the SQLite journal in state_dir (one daemon), or
	// a postgres:// URL of a database that replicas share. Its password
	// comes from password_file= or password_env= in the URL, never the URL.
	Database string        `yaml:"database"`
	Replica  ReplicaConfig `yaml:"replica"`
}

// ReplicaConfig is one replica's lease on a shared database.
type ReplicaConfig struct {
	// ID names the replica, unique among those sharing the database
	// (default: the host name, which a Kubernetes pod's name is).
	ID string `yaml:"id"`
	// LeaseTTL is how long a lease lasts unrenewed: a dead replica's
	// devices move after at most lease_ttl and one poll_interval.
	LeaseTTL Duration `yaml:"lease_ttl"`
	// Renew is the time between renewals (default lease_ttl / 3).
	Renew Duration `yaml:"renew"`
}

// Replicated reports whether the daemon shares its journal with replicas.
func (c StateConfig) Replicated() bool { return c.Database != "" }

// RepoConfig names the intent repo the daemon follows.
type RepoConfig struct {
	// URL is what git clones: https://, ssh://, file://. Exactly one of URL and
	// Path is set.
	URL string `yaml:"url"`
	// Path is a repository on this machine.
	Path string `yaml:"path"`
	// Branch is the branch to follow (default main).
	Branch string `yaml:"branch"`
	// Auth is how the daemon logs in to a private repo's server; nil
	// fetches anonymously (or through the SSH agent for ssh URLs).
	Auth *RepoAuthConfig `yaml:"auth"`
}

// RepoAuthConfig are the fetch credentials of a private intent repo, each
// secret in a file (a mounted Secret), checked like every credential file
// and never logged. An https URL takes a token or a password; an ssh URL a
// private key and the known_hosts file its server's host key must be in.
type RepoAuthConfig struct {
	// Username is the https login (default "git"; GitHub takes any name with
	// a token, GitLab "oauth2") or the ssh login (default the URL's user,
	// else "git").
	Username string `yaml:"username"`
	// TokenFile or PasswordFile holds the https secret (one of them).
	TokenFile    string `yaml:"token_file"`
	PasswordFile string `yaml:"password_file"`
	// SSHKeyFile is a PEM private key (a deploy key); PassphraseFile holds
	// its passphrase when it is encrypted.
	SSHKeyFile     string `yaml:"ssh_key_file"`
	PassphraseFile string `yaml:"passphrase_file"`
	// KnownHostsFile lists the Git server's host keys: required with
	// ssh_key_file, since a host key is never accepted unchecked.
	KnownHostsFile string `yaml:"known_hosts_file"`
}

// repoScheme says how a repo URL is fetched: "https" (or "http"), "ssh",
// "file", or "" when it cannot tell.
func repoScheme(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && !strings.Contains(u.Scheme, "@") {
		switch u.Scheme {
		case "http", "https", "ssh", "file":
			return u.Scheme
		case "git+ssh", "ssh+git":
			return "ssh"
		}
		return ""
	}
	// user@host:path, as git and go-git read it
	if at, colon := strings.Index(raw, "@"), strings.Index(raw, ":"); at > 0 && colon > at {
		return "ssh"
	}
	return ""
}

// CredentialsConfig says where the secrets the inventory refers to come from.
// The inventory holds only references (passwordEnv, passwordFile, keyFile);
// the daemon resolves them.
type CredentialsConfig struct {
	// EnvFile is a file of NAME=value lines (such as the one `netrecon sim`
	// writes) that answers passwordEnv references before the process
	// environment does, without exporting the secrets to child processes.
	EnvFile string `yaml:"env_file"`
	// AllowInsecureFiles lets the daemon use secret files (env_file, the
	// token and webhook secret files, the inventory's passwordFile and
	// keyFile) that their group or others may access, with a warning; by
	// default it refuses them.
	AllowInsecureFiles bool `yaml:"allow_insecure_files"`
}

// GuardsConfig are the checks that must pass before a device is changed.
// Maintenance (the inventory's maintenance: true) is always checked.
type GuardsConfig struct {
	OperatorSessions *OperatorSessionsConfig `yaml:"operator_sessions"`
	SNMP             *SNMPConfig             `yaml:"snmp"`
	FreezeWindows    []guard.WindowSpec      `yaml:"freeze_windows"`
}

// OperatorSessionsConfig defers a device while a NETCONF session of a user
// not in Allow is open on it (the daemon's own session is always allowed).
type OperatorSessionsConfig struct {
	Allow []string `yaml:"allow"`
}

// SNMPConfig defers a device while an SNMP gauge (users logged in, a
// maintenance flag) is above Threshold.
type SNMPConfig struct {
	// CommunityEnv names the environment variable holding the community: the
	// secret never lives in the config file.
	CommunityEnv string `yaml:"community_env"`
	// OID is the numeric OID read (default hrSystemNumUsers.0).
	OID string `yaml:"oid"`
	// Threshold: a value above it defers the device.
	Threshold int64 `yaml:"threshold"`
	// MinInterval is the least time between two reads of one device; a newer
	// read is served from the last answer.
	MinInterval Duration `yaml:"min_interval"`
	// Port is the agent's UDP port (default 161) on the device's address;
	// Address overrides the whole host:port for every device (a lab agent).
	Port    int      `yaml:"port"`
	Address string   `yaml:"address"`
	Timeout Duration `yaml:"timeout"`
	Retries int      `yaml:"retries"`
}

// DriftPolicy says what a pass does with drift.
type DriftPolicy string

const (
	// Heal applies the intent again over the hand edit.
	Heal DriftPolicy = "heal"
	// Report raises an alarm and leaves the device as it is.
	Report DriftPolicy = "report"
)

// DriftConfig is the drift policy: Default, overridden per device, then per
// service. When services of one device disagree, report wins: leaving a hand
// edit in place is the safer mistake.
type DriftConfig struct {
	Default  DriftPolicy            `yaml:"default"`
	Devices  map[string]DriftPolicy `yaml:"devices"`
	Services map[string]DriftPolicy `yaml:"services"`
}

// SessionsConfig tunes the daemon's session pool (reconcile/session): at
// most one session per device, kept open between passes so that a pass pays
// no SSH set-up.
type SessionsConfig struct {
	// Keepalive is how long an idle session goes without an RPC before the
	// daemon sends it a small read (netconf-state/sessions), which keeps it
	// open through idle timeouts on the way and finds it dead before a pass
	// does.
	Keepalive Duration `yaml:"keepalive"`
	// IdleTimeout closes a session no pass used for this long (a device
	// that left the inventory, or a poll_interval longer than it).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// Reconnect is the back-off of opening a lost session again in the
	// background: base after the first failure, doubled after each further
	// one, at most max.
	Reconnect RetryConfig `yaml:"reconnect"`
}

// RetryConfig is the back-off of a failing device: Base after the first
// failure, doubled after each further one, at most Max.
type RetryConfig struct {
	Base Duration `yaml:"base"`
	Max  Duration `yaml:"max"`
}

// AlarmConfig says when a failing device raises an alarm.
type AlarmConfig struct {
	// AfterFailures is the number of consecutive failed passes of a device
	// that raise its alarm.
	AfterFailures int `yaml:"after_failures"`
}

// TasksConfig tunes the tracking of manual steps.
type TasksConfig struct {
	// AlarmAfter is how long a step may stay open before the tasks-overdue
	// alarm rises.
	AlarmAfter Duration `yaml:"alarm_after"`
}

// NotifyConfig is where alarms are POSTed as JSON; "" sends none.
type NotifyConfig struct {
	URL     string   `yaml:"url"`
	Timeout Duration `yaml:"timeout"`
}

// IRRConfig is the daemon's side of IRR registration and sync: the site's
// mail relay, the Maildir the registries' replies are delivered into, and
// the timing. The databases themselves are intent (irr/settings.yaml).
type IRRConfig struct {
	SMTPRelay    string      `yaml:"smtp_relay"`
	ReplyMaildir string      `yaml:"reply_maildir"`
	VerifyWithin Duration    `yaml:"verify_within"`
	Retry        RetryConfig `yaml:"retry"`
	// SyncEvery is how often the daemon runs irr sync (default daily).
	SyncEvery Duration `yaml:"sync_every"`
	// PullRequests is where a sync's change is proposed: the GitHub
	// repository and a file holding a token that may push and open pull
	// requests. Without it the change is pushed as a branch (or to the
	// branch itself where sync.commit is direct), with the repo's own
	// credentials.
	PullRequests IRRPullRequests `yaml:"pull_requests"`
}

// IRRPullRequests is the forge the scheduled sync opens pull requests on.
type IRRPullRequests struct {
	Repo      string `yaml:"repo"` // owner/name
	TokenFile string `yaml:"token_file"`
}

// SignatureConfig is the commit signature policy: with a Keyring, every
// commit the daemon applies must be signed by one of its keys.
type SignatureConfig struct {
	Keyring string `yaml:"keyring"`
}

// WebhookConfig enables POST /hooks/github when SecretFile is set.
type WebhookConfig struct {
	SecretFile string `yaml:"secret_file"`
	// MaxBody caps a delivery's body in bytes (default 1 MiB).
	MaxBody int64 `yaml:"max_body"`
}

// APIConfig says who may use /api/v1/. Each token has a scope: read (GET),
// trigger (read, and POST /api/v1/runs) or write (trigger, and the operator
// actions). TokenFile is a trigger token, ReadTokenFile a read token; Tokens
// names more, each with the identity the journal records its actions under.
// Reads need a token, unless OpenReads.
type APIConfig struct {
	TokenFile string `yaml:"token_file"`
	// ReadTokenFile holds a token that may read /api/v1/ and do nothing else.
	ReadTokenFile string `yaml:"read_token_file"`
	// OpenReads serves /api/v1/ reads to anyone who reaches the listener.
	OpenReads bool `yaml:"open_reads"`
	// Tokens are named tokens with a scope.
	Tokens []TokenConfig `yaml:"tokens"`
}

// TokenConfig is one named API token.
type TokenConfig struct {
	// Name is who the token is: the journal records it with every action
	// (and the person the request names, for a shared token).
	Name string `yaml:"name"`
	// File holds the token (mode 0600).
	File string `yaml:"file"`
	// Scope is read, trigger or write.
	Scope Scope `yaml:"scope"`
}

// UsageConfig is the usage collection: each service's interface counters
// over SNMP, exported as metrics and shown in the services API. With it,
// the SNMP guard reads through the same per-device poller (with this
// community, port and address).
type UsageConfig struct {
	// CommunityEnv names the environment variable holding the community.
	CommunityEnv string `yaml:"community_env"`
	// Port is the agents' UDP port (default 161); Address, when set, is
	// one agent for every device (a lab, a proxy).
	Port    int    `yaml:"port"`
	Address string `yaml:"address"`
	// MinInterval is the least time between two SNMP reads of a device
	// (default 1m); Devices sets it per device.
	MinInterval Duration            `yaml:"min_interval"`
	Devices     map[string]Duration `yaml:"devices"`
	// IfName is the service's ifName on its device, from its spec fields:
	// "{interface}.{vlan}" (the default: a VLAN unit, as Junos names it) or
	// "{interface}".
	IfName  string   `yaml:"if_name"`
	Timeout Duration `yaml:"timeout"`
	Retries int      `yaml:"retries"`
}

// interval is the least time between two reads of device.
func (u *UsageConfig) interval(device string) time.Duration {
	if d, ok := u.Devices[device]; ok {
		return d.D()
	}
	return u.MinInterval.D()
}

// OrdersConfig is the order API: orders become branches of the intent
// repo (pushed with the credentials the daemon fetches with), and with
// GitHub set, pull requests.
type OrdersConfig struct {
	// Author and Email sign the orders' commits (default author netrecon).
	Author string `yaml:"author"`
	Email  string `yaml:"email"`
	// GitHub, when set, opens a pull request for each order's branch;
	// without it an order is a pushed branch only (a plain Git remote).
	GitHub *OrdersGitHubConfig `yaml:"github"`
}

// OrdersGitHubConfig says where the orders' pull requests go.
type OrdersGitHubConfig struct {
	// APIURL is the API root (default https://api.github.com; GitHub
	// Enterprise Server: https://HOST/api/v3).
	APIURL string `yaml:"api_url"`
	// Repo is the intent repo on GitHub, owner/name.
	Repo string `yaml:"repo"`
	// TokenFile holds a token that may open pull requests (mode 0600).
	TokenFile string `yaml:"token_file"`
}

// Scope is what a token may do. read, trigger and write form a ladder: each
// may do what the ones before it may. order stands apart: an order system's
// token may place orders and read, and nothing else; an operator's write
// token places no orders.
type Scope string

const (
	ScopeRead    Scope = "read"
	ScopeTrigger Scope = "trigger"
	ScopeWrite   Scope = "write"
	ScopeOrder   Scope = "order"
)

// allows reports whether a token of scope s may do what need asks.
func (s Scope) allows(need Scope) bool {
	if s == ScopeOrder || need == ScopeOrder {
		return s == ScopeOrder && (need == ScopeOrder || need == ScopeRead)
	}
	order := map[Scope]int{ScopeRead: 1, ScopeTrigger: 2, ScopeWrite: 3}
	return order[s] >= order[need] && order[need] > 0
}

// Duration is a time.Duration written as "30s", "5m", "1h30m".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as 30s or 5m")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("%q is not a duration (want e.g. 30s, 5m, 1h)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ConfigError lists every problem of a config file, sorted by position.
type ConfigError struct{ Diagnostics diag.Diagnostics }

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// LoadConfig reads, defaults and checks the config file at path. Every problem
// is reported at once, each with its line and column (*ConfigError).
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(data, path)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// ParseConfig is LoadConfig on bytes; file names them in errors and anchors
// relative paths (a config's relative paths are relative to its folder). The
// file is read as intent is, and checked against serve.cue, then in Go.
func ParseConfig(data []byte, file string) (*Config, error) {
	f, diags := schema.ParseYAML(file, data)
	if f != nil {
		more, err := f.Check(serveCUE, "#Config")
		if err != nil {
			return nil, err // the embedded schema does not compile: a bug
		}
		diags = append(diags, more...)
	}
	for i := range diags {
		diags[i] = configWords(f, diags[i])
	}
	cfg := &Config{File: file, src: f}
	if !diags.HasErrors() {
		if err := yaml.Unmarshal(data, cfg); err != nil {
			diags = diags.Errorf(diag.Pos{File: file, Line: 1, Col: 1}, "", "%v", err)
		}
	}
	if !diags.HasErrors() {
		cfg.Defaults()
		cfg.resolvePaths(filepath.Dir(file))
		diags = append(diags, cfg.check()...)
	}
	if diags.HasErrors() {
		diags.Sort()
		return nil, &ConfigError{Diagnostics: diags}
	}
	return cfg, nil
}

// configWords says a problem the intent's words would put otherwise in the
// words of a config file: settings, not fields; a value's problem at the
// value.
func configWords(f *schema.YAMLFile, d diag.Diagnostic) diag.Diagnostic {
	switch {
	case strings.HasPrefix(d.Summary, "empty file"):
		d.Pos.Line, d.Pos.Col, d.Summary, d.Detail = 1, 1, "empty config: want at least repo and state_dir", ""
	case strings.HasPrefix(d.Summary, "document must be a mapping"):
		d.Summary = "want a mapping of settings"
	case strings.HasPrefix(d.Summary, "malformed YAML: "):
		d.Pos.Col, d.Summary = max(d.Pos.Col, 1), strings.TrimPrefix(d.Summary, "malformed YAML: ")
	case strings.HasPrefix(d.Summary, "unknown field "):
		d.Summary = fmt.Sprintf("unknown setting; %s takes %s", orTop(parent(d.Field)), d.Detail)
		d.Detail = ""
	case strings.HasPrefix(d.Summary, "must be "):
		want, have, _ := strings.Cut(strings.TrimPrefix(d.Summary, "must be "), ", not ")
		d.Pos, d.Detail = f.ValuePos(d.Field), ""
		v, _ := f.Value(d.Field)
		switch {
		case want == "a mapping of fields" && strings.HasPrefix(d.Field, "drift."):
			d.Summary = "want a mapping"
		case want == "a mapping of fields":
			d.Summary = "want a mapping of settings"
		case want == "a list":
			d.Summary = "want a list"
		case have == "a list":
			d.Summary = "want a single value, not a list"
		case have == "a mapping of fields":
			d.Summary = "want a single value, not a mapping"
		default:
			d.Summary = fmt.Sprintf("cannot unmarshal %s `%v` into %s", yamlKind(have, true), v, yamlKind(want, false))
		}
	case strings.Contains(d.Summary, "(ns|us|µs|ms|s|m|h)"):
		v, _ := f.Value(d.Field)
		d.Pos, d.Summary = f.ValuePos(d.Field), fmt.Sprintf("%q is not a duration (want e.g. 30s, 5m, 1h)", v)
	}
	return d
}

// yamlKind names a kind in the intent's words ("an integer") as a YAML tag
// (tag) or the Go type a decoder wanted.
func yamlKind(words string, tag bool) string {
	for _, k := range [][3]string{{"a string", "!!str", "string"}, {"an integer", "!!int", "int"},
		{"a number", "!!float", "float64"}, {"true or false", "!!bool", "bool"}} {
		if k[0] == words && tag {
			return k[1]
		} else if k[0] == words {
			return k[2]
		}
	}
	return words
}

func parent(field string) string {
	if i := strings.LastIndexAny(field, ".["); i >= 0 {
		return field[:i]
	}
	return ""
}

// Defaults fills in every unset setting.
func (c *Config) Defaults() {
	if c.Repo.Branch == "" {
		c.Repo.Branch = "main"
	}
	setDur(&c.PollInterval, time.Minute)
	if c.Concurrency == 0 {
		c.Concurrency = 10
	}
	setDur(&c.LockWait, 30*time.Second)
	setDur(&c.ConfirmTimeout, 2*time.Minute)
	setDur(&c.DialTimeout, 15*time.Second)
	setDur(&c.RPCTimeout, 30*time.Second)
	setDur(&c.PassTimeout, 30*time.Minute)
	setDur(&c.Sessions.Keepalive, 30*time.Second)
	setDur(&c.Sessions.IdleTimeout, max(10*time.Minute, 3*c.PollInterval.D()))
	setDur(&c.Sessions.Reconnect.Base, time.Second)
	setDur(&c.Sessions.Reconnect.Max, 5*time.Minute)
	if c.State.Replicated() {
		if c.State.Replica.ID == "" {
			c.State.Replica.ID, _ = os.Hostname()
		}
		setDur(&c.State.Replica.LeaseTTL, 15*time.Second)
		setDur(&c.State.Replica.Renew, c.State.Replica.LeaseTTL.D()/3)
	}
	if c.KnownHosts == "" && c.StateDir != "" {
		c.KnownHosts = filepath.Join(c.StateDir, "known_hosts")
	}
	if c.Drift.Default == "" {
		c.Drift.Default = Heal
	}
	setDur(&c.Retry.Base, 10*time.Second)
	setDur(&c.Retry.Max, 10*time.Minute)
	if c.Alarm.AfterFailures == 0 {
		c.Alarm.AfterFailures = 3
	}
	setDur(&c.Notify.Timeout, 10*time.Second)
	setDur(&c.Tasks.AlarmAfter, 72*time.Hour)
	setDur(&c.IRR.VerifyWithin, 24*time.Hour)
	setDur(&c.IRR.Retry.Base, time.Minute)
	setDur(&c.IRR.Retry.Max, 4*time.Hour)
	setDur(&c.IRR.SyncEvery, 24*time.Hour)
	setDur(&c.Health.FetchFailingFor, 15*time.Minute)
	if u := c.Usage; u != nil {
		if u.Port == 0 {
			u.Port = 161
		}
		setDur(&u.MinInterval, time.Minute)
		setDur(&u.Timeout, 2*time.Second)
		if u.IfName == "" {
			u.IfName = "{interface}.{vlan}"
		}
	}
	if c.Orders != nil && c.Orders.Author == "" {
		c.Orders.Author = "netrecon"
	}
	if c.Orders != nil && c.Orders.GitHub != nil && c.Orders.GitHub.APIURL == "" {
		c.Orders.GitHub.APIURL = "https://api.github.com"
	}
	if c.Webhook.MaxBody == 0 {
		c.Webhook.MaxBody = 1 << 20
	}
	if s := c.Guards.SNMP; s != nil {
		if s.OID == "" {
			s.OID = ".1.3.6.1.2.1.25.1.5.0" // HOST-RESOURCES-MIB hrSystemNumUsers.0
		}
		if s.Port == 0 {
			s.Port = 161
		}
		setDur(&s.MinInterval, 30*time.Second)
		setDur(&s.Timeout, 2*time.Second)
	}
}

func setDur(d *Duration, v time.Duration) {
	if *d == 0 {
		*d = Duration(v)
	}
}

// resolvePaths makes relative file paths relative to the config's folder,
// so the daemon does not depend on the directory it was started from.
func (c *Config) resolvePaths(dir string) {
	if dir == "" {
		return
	}
	for _, p := range []*string{&c.StateDir, &c.KnownHosts, &c.Credentials.EnvFile, &c.Signature.Keyring,
		&c.Webhook.SecretFile, &c.API.TokenFile, &c.API.ReadTokenFile, &c.Repo.Path, &c.IRR.ReplyMaildir, &c.IRR.PullRequests.TokenFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if a := c.Repo.Auth; a != nil {
		for _, p := range []*string{&a.TokenFile, &a.PasswordFile, &a.SSHKeyFile, &a.PassphraseFile, &a.KnownHostsFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	for i := range c.API.Tokens {
		if p := &c.API.Tokens[i].File; *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// Check reports every problem of a Config built in code (LoadConfig checks
// already). Call Defaults first.
func (c *Config) Check() error {
	if ps := c.check(); len(ps) > 0 {
		return &ConfigError{Diagnostics: ps}
	}
	return nil
}

func (c *Config) check() diag.Diagnostics {
	var ps diag.Diagnostics
	bad := func(field, format string, args ...any) {
		ps = ps.Errorf(c.posOf(field), field, format, args...)
	}
	switch {
	case c.Repo.URL == "" && c.Repo.Path == "":
		bad("repo", "set url (what git clones) or path (a repository on this machine)")
	case c.Repo.URL != "" && c.Repo.Path != "":
		bad("repo", "set url or path, not both")
	case c.Repo.URL != "":
		if u, err := url.Parse(c.Repo.URL); err != nil || (u.Scheme == "" && !strings.Contains(c.Repo.URL, "@")) {
			bad("repo.url", "%q is not a URL git can fetch (https://, ssh://, file://, or user@host:path)", c.Repo.URL)
		} else if u.User != nil {
			if _, has := u.User.Password(); has {
				bad("repo.url", "the URL holds a password: put it in a file named by repo.auth.token_file or password_file")
			}
		}
	case c.Repo.Path != "":
		checkDir(bad, "repo.path", c.Repo.Path)
	}
	c.checkRepoAuth(bad)
	if strings.ContainsAny(c.Repo.Branch, " ~^:?*[\\") || strings.HasPrefix(c.Repo.Branch, "-") {
		bad("repo.branch", "%q is not a branch name", c.Repo.Branch)
	}
	if c.StateDir == "" {
		bad("state_dir", "required: the folder of the journal, the repo mirror and the daemon's lock")
	}
	if c.PollInterval.D() < time.Second {
		bad("poll_interval", "%s: want at least 1s", c.PollInterval.D())
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			bad("listen", "%q: want host:port, e.g. 127.0.0.1:9090", c.Listen)
		}
	}
	if db := c.State.Database; db != "" {
		shown := journal.RedactDSN(db)
		if !journal.IsPostgres(db) {
			bad("state.database", "%q: want a postgres:// URL (or nothing, for the SQLite journal in state_dir)", shown)
		} else if u, err := url.Parse(db); err != nil {
			bad("state.database", "%s: not a URL", shown)
		} else if _, has := u.User.Password(); has {
			bad("state.database", "the URL holds a password: name a file (?password_file=/run/secrets/pg) or a variable (?password_env=PGPASSWORD) instead")
		}
		r := c.State.Replica
		if r.ID == "" || strings.ContainsAny(r.ID, " \t\n") {
			bad("state.replica.id", "%q: want a name without spaces, unique among the replicas", r.ID)
		}
		if r.LeaseTTL.D() < time.Second {
			bad("state.replica.lease_ttl", "%s: want at least 1s", r.LeaseTTL.D())
		}
		if r.Renew.D() <= 0 || r.Renew.D() > r.LeaseTTL.D()/2 {
			bad("state.replica.renew", "%s: want more than 0 and at most half of lease_ttl (%s), so one late renewal does not lose the lease", r.Renew.D(), r.LeaseTTL.D())
		}
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		bad("concurrency", "%d: want 1 to 1000", c.Concurrency)
	}
	for _, d := range []struct {
		field string
		v     Duration
	}{{"lock_wait", c.LockWait}, {"dial_timeout", c.DialTimeout}, {"rpc_timeout", c.RPCTimeout},
		{"settle_after_hello", c.SettleAfterHello}, {"pass_timeout", c.PassTimeout}, {"notify.timeout", c.Notify.Timeout}} {
		if d.v < 0 {
			bad(d.field, "%s: want a positive duration", d.v.D())
		}
	}
	if c.ConfirmTimeout.D() < time.Second {
		bad("confirm_timeout", "%s: want at least 1s (devices count it in whole seconds)", c.ConfirmTimeout.D())
	}
	checkPolicy := func(field string, p DriftPolicy) {
		if p != Heal && p != Report {
			bad(field, "%q: want heal or report", p)
		}
	}
	checkPolicy("drift.default", c.Drift.Default)
	for _, name := range sortedKeys(c.Drift.Devices) {
		checkPolicy("drift.devices."+name, c.Drift.Devices[name])
	}
	for _, name := range sortedKeys(c.Drift.Services) {
		checkPolicy("drift.services."+name, c.Drift.Services[name])
	}
	for _, d := range []struct {
		field string
		v     Duration
	}{{"sessions.keepalive", c.Sessions.Keepalive}, {"sessions.idle_timeout", c.Sessions.IdleTimeout}, {"sessions.reconnect.base", c.Sessions.Reconnect.Base}} {
		if d.v <= 0 {
			bad(d.field, "%s: want a positive duration", d.v.D())
		}
	}
	if c.Sessions.Reconnect.Max < c.Sessions.Reconnect.Base {
		bad("sessions.reconnect.max", "%s is below sessions.reconnect.base %s", c.Sessions.Reconnect.Max.D(), c.Sessions.Reconnect.Base.D())
	}
	if c.Retry.Base.D() <= 0 {
		bad("retry.base", "%s: want a positive duration", c.Retry.Base.D())
	}
	if c.Retry.Max < c.Retry.Base {
		bad("retry.max", "%s is below retry.base %s", c.Retry.Max.D(), c.Retry.Base.D())
	}
	if c.Alarm.AfterFailures < 1 {
		bad("alarm.after_failures", "%d: want at least 1", c.Alarm.AfterFailures)
	}
	if c.IRR.SMTPRelay != "" {
		if _, _, err := net.SplitHostPort(c.IRR.SMTPRelay); err != nil {
			bad("irr.smtp_relay", "%q: want host:port, e.g. 127.0.0.1:25", c.IRR.SMTPRelay)
		}
	}
	if c.IRR.VerifyWithin.D() < time.Second {
		bad("irr.verify_within", "%s: want at least 1s", c.IRR.VerifyWithin.D())
	}
	if c.IRR.Retry.Base.D() <= 0 || c.IRR.Retry.Max.D() < c.IRR.Retry.Base.D() {
		bad("irr.retry", "base %s, max %s: want 0 < base <= max", c.IRR.Retry.Base.D(), c.IRR.Retry.Max.D())
	}
	if pr := c.IRR.PullRequests; (pr.Repo == "") != (pr.TokenFile == "") || (pr.Repo != "" && strings.Count(pr.Repo, "/") != 1) {
		bad("irr.pull_requests", "repo %q, token_file %q: want both, repo as owner/name", pr.Repo, pr.TokenFile)
	}
	if c.Health.FetchFailingFor.D() < time.Minute {
		bad("health.fetch_failing_for", "%s: want at least 1m (one failed fetch is no reason to leave the Service)", c.Health.FetchFailingFor.D())
	}
	if c.IRR.SyncEvery.D() < time.Minute {
		bad("irr.sync_every", "%s: want at least 1m", c.IRR.SyncEvery.D())
	}
	if c.Notify.URL != "" {
		if u, err := url.Parse(c.Notify.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("notify.url", "%q: want an http:// or https:// URL", c.Notify.URL)
		}
	}
	if c.API.OpenReads && c.API.ReadTokenFile != "" {
		bad("api.open_reads", "set open_reads or read_token_file, not both: open reads need no token")
	}
	names := map[string]bool{}
	for i, tk := range c.API.Tokens {
		field := fmt.Sprintf("api.tokens[%d]", i)
		switch {
		case tk.Name == "":
			bad(field+".name", "required: who the token is, as the journal records its actions")
		case names[tk.Name] || tk.Name == tokenFileName || tk.Name == readTokenFileName:
			bad(field+".name", "%q: a second token of that name", tk.Name)
		}
		names[tk.Name] = true
		if tk.File == "" {
			bad(field+".file", "required: the file that holds the token")
		} else {
			checkFile(bad, field+".file", tk.File)
		}
		if !tk.Scope.allows(ScopeRead) {
			bad(field+".scope", "%q: want read, trigger, write or order", tk.Scope)
		}
	}
	if u := c.Usage; u != nil {
		switch {
		case u.CommunityEnv == "":
			bad("usage.community_env", "required: the environment variable that holds the community")
		case os.Getenv(u.CommunityEnv) == "":
			bad("usage.community_env", "environment variable %s is not set", u.CommunityEnv)
		}
		if u.Port < 1 || u.Port > 65535 {
			bad("usage.port", "%d: want 1 to 65535", u.Port)
		}
		if u.MinInterval.D() < time.Second {
			bad("usage.min_interval", "%s: want at least 1s (SNMP costs the router CPU)", u.MinInterval.D())
		}
		for name, d := range u.Devices {
			if d.D() < time.Second {
				bad("usage.devices."+name, "%s: want at least 1s", d.D())
			}
		}
		if !strings.Contains(u.IfName, "{interface}") {
			bad("usage.if_name", "%q: want a pattern with {interface}, such as {interface}.{vlan}", u.IfName)
		}
		if u.Retries < 0 {
			bad("usage.retries", "%d: want 0 or more", u.Retries)
		}
	}
	if o := c.Orders; o != nil {
		if o.Email == "" || !strings.Contains(o.Email, "@") {
			bad("orders.email", "%q: want the e-mail address the orders' commits carry", o.Email)
		}
		if g := o.GitHub; g != nil {
			if owner, name, ok := strings.Cut(g.Repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
				bad("orders.github.repo", "%q: want owner/name", g.Repo)
			}
			if u, err := url.Parse(g.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad("orders.github.api_url", "%q: want https://host[/path]", g.APIURL)
			}
			if g.TokenFile == "" {
				bad("orders.github.token_file", "required: the file that holds a token that may open pull requests")
			} else {
				checkFile(bad, "orders.github.token_file", g.TokenFile)
			}
		}
	}
	if c.Webhook.MaxBody < 1 {
		bad("webhook.max_body", "%d: want a positive number of bytes", c.Webhook.MaxBody)
	}
	for _, f := range []struct{ field, path string }{
		{"credentials.env_file", c.Credentials.EnvFile}, {"signature.keyring", c.Signature.Keyring},
		{"webhook.secret_file", c.Webhook.SecretFile}, {"api.token_file", c.API.TokenFile},
		{"api.read_token_file", c.API.ReadTokenFile},
	} {
		if f.path != "" {
			checkFile(bad, f.field, f.path)
		}
	}
	if s := c.Guards.SNMP; s != nil {
		switch {
		case s.CommunityEnv == "":
			bad("guards.snmp.community_env", "required: the environment variable that holds the community")
		case os.Getenv(s.CommunityEnv) == "":
			bad("guards.snmp.community_env", "environment variable %s is not set", s.CommunityEnv)
		}
		if !validOID(s.OID) {
			bad("guards.snmp.oid", "%q: want a numeric OID such as .1.3.6.1.2.1.25.1.5.0", s.OID)
		}
		if s.Port < 1 || s.Port > 65535 {
			bad("guards.snmp.port", "%d: want 1 to 65535", s.Port)
		}
		if s.Address != "" {
			if _, _, err := net.SplitHostPort(s.Address); err != nil {
				bad("guards.snmp.address", "%q: want host:port", s.Address)
			}
		}
		if s.MinInterval < 0 || s.Timeout <= 0 || s.Retries < 0 {
			bad("guards.snmp", "min_interval, timeout and retries must not be negative, timeout not zero")
		}
	}
	for i, w := range c.Guards.FreezeWindows {
		if _, err := guard.ParseWindow(w); err != nil {
			bad(fmt.Sprintf("guards.freeze_windows[%d]", i), "%v", err)
		}
	}
	return ps
}

// checkRepoAuth checks that repo.auth fits the URL: a token or a password for
// https, a key and a known_hosts file for ssh, nothing for a local repo.
func (c *Config) checkRepoAuth(bad func(string, string, ...any)) {
	a := c.Repo.Auth
	if a == nil {
		return
	}
	https := a.TokenFile != "" || a.PasswordFile != ""
	ssh := a.SSHKeyFile != "" || a.PassphraseFile != "" || a.KnownHostsFile != ""
	scheme := repoScheme(c.Repo.URL)
	switch {
	case c.Repo.URL == "":
		bad("repo.auth", "a repo on this machine (repo.path) takes no credentials")
		return
	case https && ssh:
		bad("repo.auth", "set token_file or password_file for an https URL, or ssh_key_file and known_hosts_file for an ssh URL, not both")
		return
	case !https && !ssh:
		bad("repo.auth", "set token_file or password_file (https), or ssh_key_file and known_hosts_file (ssh)")
		return
	case https && scheme != "https" && scheme != "http":
		bad("repo.auth", "token_file and password_file are for an https URL; repo.url %q is not one", c.Repo.URL)
		return
	case ssh && scheme != "ssh":
		bad("repo.auth", "ssh_key_file is for an ssh URL (ssh:// or user@host:path); repo.url %q is not one", c.Repo.URL)
		return
	}
	if a.TokenFile != "" && a.PasswordFile != "" {
		bad("repo.auth.password_file", "set token_file or password_file, not both")
	}
	if ssh {
		if a.SSHKeyFile == "" {
			bad("repo.auth.ssh_key_file", "required for an ssh URL: the private key (a deploy key) the daemon logs in with")
		}
		if a.KnownHostsFile == "" {
			bad("repo.auth.known_hosts_file", "required with ssh_key_file: the Git server's host key is never accepted unchecked")
		}
	}
	if strings.ContainsAny(a.Username, " \t\n:@") {
		bad("repo.auth.username", "%q: want a login name without spaces, ':' or '@'", a.Username)
	}
	for _, f := range []struct{ field, path string }{{"repo.auth.token_file", a.TokenFile}, {"repo.auth.password_file", a.PasswordFile},
		{"repo.auth.ssh_key_file", a.SSHKeyFile}, {"repo.auth.passphrase_file", a.PassphraseFile}, {"repo.auth.known_hosts_file", a.KnownHostsFile}} {
		if f.path != "" {
			checkFile(bad, f.field, f.path)
		}
	}
}

func checkFile(bad func(string, string, ...any), field, path string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		bad(field, "%v", err)
	case st.IsDir():
		bad(field, "%s is a folder, want a file", path)
	}
}

func checkDir(bad func(string, string, ...any), field, path string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		bad(field, "%v", err)
	case !st.IsDir():
		bad(field, "%s is not a folder", path)
	}
}

func validOID(s string) bool {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// posOf returns where field was written, or where its nearest written parent
// was (a missing field is reported at the section that should hold it).
func (c *Config) posOf(field string) diag.Pos {
	if c.src == nil {
		return diag.Pos{File: c.File, Line: 1, Col: 1}
	}
	return c.src.Pos(field)
}

func orTop(field string) string {
	if field == "" {
		return "the config"
	}
	return field
}
