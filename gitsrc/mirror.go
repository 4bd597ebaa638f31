package gitsrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// DefaultFetchTimeout bounds one fetch when WithFetchTimeout is not given: long
// enough for a first clone of a large intent repo, short enough that a hung
// server does not stall the daemon's loop for good.
const DefaultFetchTimeout = 2 * time.Minute

// remoteName is the only remote a mirror has.
const remoteName = "origin"

// Mirror is the daemon's private, bare clone of one branch of the intent repo.
// It has no work tree: the daemon reads only commits it fetched, which nobody on
// the machine can edit underneath it. Fetching only adds objects, so a commit
// applied before stays readable after the branch was force-pushed away from it;
// that is what lets CheckAdvance see the rewrite.
//
// A Mirror serialises its own methods, but a Revision it returned reads the
// store without that lock: read revisions between fetches, as the daemon's
// loop does. One process owns dir; replicas of the daemon each keep their own.
type Mirror struct {
	url     string // credentials removed; what the clone's config records
	branch  string
	dir     string
	prefix  string // intent folder inside the repo; "" at the top
	auth    transport.AuthMethod
	secrets []string // scrubbed from every error and log line
	timeout time.Duration
	ca      []byte
	log     *slog.Logger

	mu  sync.Mutex
	git *git.Repository
}

// MirrorOption configures OpenMirror. Options check their own arguments and
// OpenMirror checks that they fit the URL (no token over ssh, no key over https).
type MirrorOption func(*mirrorOptions) error

type mirrorOptions struct {
	user, token    string
	sshUser        string
	sshKey         []byte
	sshPassphrase  string
	knownHosts     []string
	timeout        time.Duration
	ca             []byte
	prefix         string
	log            *slog.Logger
	basic, sshAuth bool
}

// WithBasicAuth authenticates https fetches with a user name and a token or
// password, e.g. ("x-access-token", token) for a GitHub App or ("oauth2", token)
// for GitLab. Prefer this to credentials in the URL: the token then never
// reaches the clone's config on disk (credentials in an https URL are moved
// here by OpenMirror for the same reason).
func WithBasicAuth(user, token string) MirrorOption {
	return func(o *mirrorOptions) error {
		if token == "" {
			return errors.New("WithBasicAuth: empty token")
		}
		o.user, o.token, o.basic = user, token, true
		return nil
	}
}

// WithSSHKey authenticates ssh fetches with a PEM private key (a deploy key),
// decrypted with passphrase when it is encrypted. user is the ssh login, "git"
// for most forges. Without this option ssh uses the SSH agent.
func WithSSHKey(user string, pemKey []byte, passphrase string) MirrorOption {
	return func(o *mirrorOptions) error {
		if user == "" || len(pemKey) == 0 {
			return errors.New("WithSSHKey: user and key are required")
		}
		o.sshUser, o.sshKey, o.sshPassphrase, o.sshAuth = user, pemKey, passphrase, true
		return nil
	}
}

// WithSSHKnownHosts names the known_hosts files that the server's host key must
// be in (with WithSSHKey). Without it, go-git reads $SSH_KNOWN_HOSTS or
// ~/.ssh/known_hosts; host keys are never accepted unchecked.
func WithSSHKnownHosts(files ...string) MirrorOption {
	return func(o *mirrorOptions) error {
		if len(files) == 0 {
			return errors.New("WithSSHKnownHosts: no file")
		}
		o.knownHosts = files
		return nil
	}
}

// WithCABundle adds PEM certificates to the system pool for https, for a Git
// server behind a private CA.
func WithCABundle(pem []byte) MirrorOption {
	return func(o *mirrorOptions) error {
		if len(pem) == 0 {
			return errors.New("WithCABundle: empty bundle")
		}
		o.ca = pem
		return nil
	}
}

// WithFetchTimeout bounds each fetch, the first clone included.
func WithFetchTimeout(d time.Duration) MirrorOption {
	return func(o *mirrorOptions) error {
		if d <= 0 {
			return fmt.Errorf("WithFetchTimeout: %s is not a positive duration", d)
		}
		o.timeout = d
		return nil
	}
}

// WithIntentDir reads revisions from a folder of the repo (the intent-dir of a
// monorepo), as Open does for a folder of a work tree. Signatures and history
// are still checked on the whole commit: a commit is signed as a whole.
func WithIntentDir(dir string) MirrorOption {
	return func(o *mirrorOptions) error {
		p := path.Clean(strings.Trim(filepath.ToSlash(dir), "/"))
		if p == "." {
			p = ""
		}
		if p == ".." || strings.HasPrefix(p, "../") {
			return fmt.Errorf("WithIntentDir: %q leaves the repo", dir)
		}
		o.prefix = p
		return nil
	}
}

// WithLogger receives one line per fetch that moved the branch; nil discards.
func WithLogger(l *slog.Logger) MirrorOption {
	return func(o *mirrorOptions) error {
		o.log = l
		return nil
	}
}

// MirrorMismatchError means dir already holds a mirror of another repo or
// branch. The daemon must not silently re-point it: the commits it applied are
// recorded against that repo. Remove dir, or give it the URL it was made for.
type MirrorMismatchError struct {
	Dir       string
	Want, Got string // "URL branch NAME", credentials removed
}

func (e *MirrorMismatchError) Error() string {
	return fmt.Sprintf("%s is a mirror of %s, not of %s: remove it or use the URL and branch it was made for", e.Dir, e.Got, e.Want)
}

// OpenMirror opens the bare mirror of branch of url in dir, cloning it when dir
// does not exist or is empty. An existing mirror must have been made from the
// same URL (credentials aside) and branch, and is not fetched: call Fetch.
//
// url is anything git fetches from: a local path or file:// URL, https (with
// WithBasicAuth, or credentials in the URL, which are moved out of it before
// anything is written), or ssh (with WithSSHKey and WithSSHKnownHosts, or the
// SSH agent). The whole history of the branch is fetched, never a shallow
// copy, since signatures and rewrites are judged on history. Errors never
// contain credentials.
func OpenMirror(ctx context.Context, rawURL, branch, dir string, opts ...MirrorOption) (*Mirror, error) {
	o := mirrorOptions{timeout: DefaultFetchTimeout}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	m := &Mirror{branch: branch, dir: dir, prefix: o.prefix, timeout: o.timeout, ca: o.ca, log: o.log}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if err := m.setRemote(rawURL, &o); err != nil {
		return nil, sanitize(err, m.secrets)
	}
	ref := plumbing.NewBranchReferenceName(branch)
	if branch == "" || strings.HasPrefix(branch, "-") || ref.Validate() != nil {
		return nil, fmt.Errorf("open mirror of %s: %q is not a branch name", m.url, branch)
	}

	empty, err := isEmptyDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open mirror of %s: %w", m.url, err)
	}
	if empty {
		if err := m.clone(ctx); err != nil {
			return nil, err
		}
		return m, nil
	}
	g, err := git.PlainOpen(dir)
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("open mirror of %s: %s is neither empty nor a Git repository; refusing to write into it", m.url, dir)
		}
		return nil, fmt.Errorf("open mirror in %s: %w", dir, err)
	}
	if err := m.check(g); err != nil {
		return nil, err
	}
	m.git = g
	return m, nil
}

// setRemote parses the URL, moves credentials out of it and builds the
// transport's authentication from the options.
func (m *Mirror) setRemote(rawURL string, o *mirrorOptions) error {
	if rawURL == "" {
		return errors.New("open mirror: empty URL")
	}
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return fmt.Errorf("open mirror: bad URL %s: %w", redactURLs(rawURL), err)
	}
	// Whatever happens next, these must not reach a message.
	m.secrets = []string{ep.Password, o.token, o.sshPassphrase}
	if ep.Password == "" && (ep.Protocol == "http" || ep.Protocol == "https") {
		m.secrets = append(m.secrets, ep.User) // a token given as the user name
	}
	m.url = rawURL
	switch ep.Protocol {
	case "file":
		if !strings.HasPrefix(rawURL, "file://") {
			// A relative path would name another repo after a restart in
			// another directory.
			abs, err := filepath.Abs(rawURL)
			if err != nil {
				return err
			}
			m.url = abs
		}
		if o.basic || o.sshAuth || o.knownHosts != nil {
			return fmt.Errorf("open mirror of %s: a local path takes no credentials", m.url)
		}
	case "http", "https":
		if ep.User != "" || ep.Password != "" {
			u, err := url.Parse(rawURL)
			if err != nil {
				return fmt.Errorf("open mirror: bad URL %s", redactURLs(rawURL))
			}
			u.User = nil
			m.url = u.String()
			if o.basic {
				return fmt.Errorf("open mirror of %s: credentials both in the URL and in WithBasicAuth", m.url)
			}
			m.auth = &githttp.BasicAuth{Username: ep.User, Password: ep.Password}
		}
		if o.basic {
			m.auth = &githttp.BasicAuth{Username: o.user, Password: o.token}
		}
		if o.sshAuth || o.knownHosts != nil {
			return fmt.Errorf("open mirror of %s: SSH options given for an %s URL", m.url, ep.Protocol)
		}
	case "ssh":
		if ep.Password != "" {
			return fmt.Errorf("open mirror of %s: no password in an ssh URL; use WithSSHKey", redactURLs(rawURL))
		}
		if o.basic {
			return fmt.Errorf("open mirror of %s: WithBasicAuth given for an ssh URL", m.url)
		}
		if o.knownHosts != nil && !o.sshAuth {
			return fmt.Errorf("open mirror of %s: WithSSHKnownHosts needs WithSSHKey", m.url)
		}
		if o.sshAuth {
			keys, err := gitssh.NewPublicKeys(o.sshUser, o.sshKey, o.sshPassphrase)
			if err != nil {
				return fmt.Errorf("open mirror of %s: ssh key: %w", m.url, err)
			}
			if o.knownHosts != nil {
				cb, err := gitssh.NewKnownHostsCallback(o.knownHosts...)
				if err != nil {
					return fmt.Errorf("open mirror of %s: known hosts: %w", m.url, err)
				}
				keys.HostKeyCallback = cb
			}
			m.auth = keys
		}
	default:
		if o.basic || o.sshAuth {
			return fmt.Errorf("open mirror of %s: credentials are not sent over %s", m.url, ep.Protocol)
		}
	}
	return nil
}

func (m *Mirror) refspec() config.RefSpec {
	// '+': a force-pushed branch must still be fetched, so that CheckAdvance
	// can refuse it with a reason instead of the fetch failing without one.
	ref := plumbing.NewBranchReferenceName(m.branch)
	return config.RefSpec("+" + ref.String() + ":" + ref.String())
}

// clone makes the bare repository and fetches the branch into it; on failure
// it leaves dir as empty as it found it, so the next start clones again.
func (m *Mirror) clone(ctx context.Context) (err error) {
	_, statErr := os.Stat(m.dir)
	created := os.IsNotExist(statErr)
	defer func() {
		if err == nil {
			return
		}
		if created {
			os.RemoveAll(m.dir)
			return
		}
		if es, rerr := os.ReadDir(m.dir); rerr == nil {
			for _, e := range es {
				os.RemoveAll(filepath.Join(m.dir, e.Name()))
			}
		}
	}()
	if err := os.MkdirAll(m.dir, 0o750); err != nil {
		return fmt.Errorf("clone %s: %w", m.url, err)
	}
	g, err := git.PlainInit(m.dir, true)
	if err != nil {
		return fmt.Errorf("clone %s into %s: %w", m.url, m.dir, err)
	}
	if _, err := g.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{m.url}, Fetch: []config.RefSpec{m.refspec()}}); err != nil {
		return fmt.Errorf("clone %s into %s: %w", m.url, m.dir, err)
	}
	// HEAD names the branch so that `git log` in dir shows what the daemon sees.
	if err := g.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(m.branch))); err != nil {
		return fmt.Errorf("clone %s into %s: %w", m.url, m.dir, err)
	}
	m.git = g
	_, err = m.fetch(ctx)
	return err
}

// check refuses a mirror made for another repo or branch, and a work tree.
func (m *Mirror) check(g *git.Repository) error {
	cfg, err := g.Config()
	if err != nil {
		return fmt.Errorf("open mirror in %s: %w", m.dir, err)
	}
	if !cfg.Core.IsBare {
		return fmt.Errorf("open mirror of %s: %s is a work tree, not a mirror; the daemon reads only fetched commits", m.url, m.dir)
	}
	gotURL, gotBranch := "(none)", "(none)"
	if rc, ok := cfg.Remotes[remoteName]; ok && len(rc.URLs) == 1 && len(rc.Fetch) == 1 {
		gotURL = rc.URLs[0]
		gotBranch = strings.TrimPrefix(rc.Fetch[0].Src(), "refs/heads/")
		if rc.Fetch[0] != m.refspec() && gotBranch == m.branch {
			gotBranch += " (other refspec)"
		}
	}
	if gotURL != m.url || gotBranch != m.branch {
		return &MirrorMismatchError{
			Dir:  m.dir,
			Want: m.url + " branch " + m.branch,
			Got:  redactURLs(gotURL) + " branch " + gotBranch,
		}
	}
	return nil
}

// Fetch brings the branch up to date and returns its head commit. A branch
// that was force-pushed is fetched like any other; judging the move is
// CheckAdvance's job. The fetch is bounded by the mirror's timeout.
func (m *Mirror) Fetch(ctx context.Context) (head string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fetch(ctx)
}

func (m *Mirror) fetch(ctx context.Context) (string, error) {
	old, _ := m.head()
	ctx, cancel := context.WithTimeoutCause(ctx, m.timeout, fmt.Errorf("fetch took longer than %s: %w", m.timeout, context.DeadlineExceeded))
	defer cancel()
	err := m.git.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{m.refspec()},
		Auth:       m.auth,
		Tags:       git.NoTags,
		Force:      true,
		CABundle:   m.ca,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		// Transports differ in whether they keep the context's error; make
		// sure a timeout or a cancel can be told from a failed fetch.
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return "", sanitize(fmt.Errorf("fetch %s branch %s: %w", m.url, m.branch, err), m.secrets)
	}
	head, err := m.head()
	if err != nil {
		return "", err
	}
	if head != old {
		m.log.InfoContext(ctx, "intent repo fetched", "url", m.url, "branch", m.branch, "head", head, "previous", old)
	}
	return head, nil
}

// Head is the branch's commit as last fetched, without fetching.
func (m *Mirror) Head() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head()
}

func (m *Mirror) head() (string, error) {
	r, err := m.git.Reference(plumbing.NewBranchReferenceName(m.branch), true)
	if err != nil {
		return "", fmt.Errorf("mirror of %s: branch %s: %w", m.url, m.branch, err)
	}
	return r.Hash().String(), nil
}

// Revision reads a fetched commit, given by its full ID, as Repo.Resolve does.
func (m *Mirror) Revision(commit string) (*Revision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.commit(commit)
	if err != nil {
		return nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("commit %s: read tree: %w", short(commit), err)
	}
	if m.prefix != "" {
		if t, err = t.Tree(m.prefix); err != nil {
			return nil, fmt.Errorf("commit %s has no folder %s", short(commit), m.prefix)
		}
	}
	return &Revision{Rev: commit, Commit: c.Hash.String(), tree: t, git: m.git}, nil
}

// commit looks up a commit by full ID. Names are refused: a name means what
// the mirror's refs say now, and the daemon must act on the commit it checked.
func (m *Mirror) commit(id string) (*object.Commit, error) {
	if len(id) != 40 || !plumbing.IsHash(id) {
		return nil, fmt.Errorf("%q is not a full commit ID", id)
	}
	c, err := m.git.CommitObject(plumbing.NewHash(id))
	if err != nil {
		return nil, fmt.Errorf("commit %s is not in the mirror of %s: %w", short(id), m.url, err)
	}
	return c, nil
}

// IsAncestor reports whether older is newer or in its history (as
// `git merge-base --is-ancestor`). A mirror holds the whole history of every
// head it fetched, so an older commit it does not hold at all is in no
// fetched history: the answer is false, not an error.
func (m *Mirror) IsAncestor(ctx context.Context, older, newer string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(older) != 40 || !plumbing.IsHash(older) {
		return false, fmt.Errorf("%q is not a full commit ID", older)
	}
	want := plumbing.NewHash(older)
	found := false
	err := m.walk(ctx, newer, func(c *object.Commit) (bool, error) {
		found = c.Hash == want
		return !found, nil
	})
	return found, err
}

// walk visits the history of start once per commit, newest first along each
// path, until visit says stop. It checks ctx between commits: a first sync may
// walk the repo's whole history.
func (m *Mirror) walk(ctx context.Context, start string, visit func(*object.Commit) (more bool, err error)) error {
	c, err := m.commit(start)
	if err != nil {
		return err
	}
	seen := map[plumbing.Hash]bool{c.Hash: true}
	queue := []*object.Commit{c}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, queue = queue[0], queue[1:]
		more, err := visit(c)
		if err != nil || !more {
			return err
		}
		for _, p := range c.ParentHashes {
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := m.git.CommitObject(p)
			if err != nil {
				return fmt.Errorf("commit %s: parent %s: %w", short(c.Hash.String()), short(p.String()), err)
			}
			queue = append(queue, pc)
		}
	}
	return nil
}

// isEmptyDir reports whether dir is missing or has no entries.
func isEmptyDir(dir string) (bool, error) {
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(es) == 0, nil
}
