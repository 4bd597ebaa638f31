package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/netrecon/netrecon/reconcile"
	"github.com/netrecon/netrecon/reconcile/daemon"
	"github.com/netrecon/netrecon/schema"
)

// The parts of the Kubernetes objects the checks read; everything else in
// the manifests is left to the API server's own validation.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"` // ConfigMap
	Spec yaml.Node         `yaml:"spec"`
	file string
}

type kustomization struct {
	Namespace string   `yaml:"namespace"`
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

type selector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	SubPath   string `yaml:"subPath"`
	ReadOnly  bool   `yaml:"readOnly"`
}

type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
			Add  []string `yaml:"add"`
		} `yaml:"capabilities"`
		SeccompProfile *struct {
			Type string `yaml:"type"`
		} `yaml:"seccompProfile"`
	} `yaml:"securityContext"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []volumeMount `yaml:"volumeMounts"`
}

type volume struct {
	Name      string `yaml:"name"`
	EmptyDir  any    `yaml:"emptyDir"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName  string `yaml:"secretName"`
		DefaultMode *int   `yaml:"defaultMode"`
	} `yaml:"secret"`
	PersistentVolumeClaim any `yaml:"persistentVolumeClaim"`
}

type deploymentSpec struct {
	Replicas int      `yaml:"replicas"`
	Selector selector `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			ServiceAccountName string `yaml:"serviceAccountName"`
			SecurityContext    struct {
				RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
				RunAsUser      *int  `yaml:"runAsUser"`
				SeccompProfile *struct {
					Type string `yaml:"type"`
				} `yaml:"seccompProfile"`
			} `yaml:"securityContext"`
			Containers []container `yaml:"containers"`
			Volumes    []volume    `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort any    `yaml:"targetPort"`
	} `yaml:"ports"`
}

type serviceMonitorSpec struct {
	Selector  selector `yaml:"selector"`
	Endpoints []struct {
		Port string `yaml:"port"`
		Path string `yaml:"path"`
	} `yaml:"endpoints"`
}

type pdbSpec struct {
	Selector       selector `yaml:"selector"`
	MinAvailable   any      `yaml:"minAvailable"`
	MaxUnavailable any      `yaml:"maxUnavailable"`
}

// manifests reads kustomization.yaml and every resource it lists.
func manifests(t *testing.T) (kustomization, []object) {
	t.Helper()
	dir := "kubernetes"
	var k kustomization
	decodeFile(t, filepath.Join(dir, "kustomization.yaml"), func(d *yaml.Decoder) error { return d.Decode(&k) })
	listed := map[string]bool{}
	var objs []object
	for _, r := range k.Resources {
		listed[r] = true
		decodeFile(t, filepath.Join(dir, r), func(d *yaml.Decoder) error {
			for {
				var o object
				err := d.Decode(&o)
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				o.file = r
				objs = append(objs, o)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !listed[b] {
			t.Errorf("%s is not in kustomization.yaml's resources: kubectl apply -k would leave it out", f)
		}
	}
	return k, objs
}

func decodeFile(t *testing.T, path string, f func(*yaml.Decoder) error) {
	t.Helper()
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := f(yaml.NewDecoder(r)); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s: %v", path, err)
	}
}

func one[S any](t *testing.T, objs []object, kind string) (object, S) {
	t.Helper()
	var found []object
	for _, o := range objs {
		if o.Kind == kind {
			found = append(found, o)
		}
	}
	var s S
	if len(found) != 1 {
		t.Fatalf("want one %s in the manifests, found %d", kind, len(found))
	}
	if err := found[0].Spec.Decode(&s); err != nil {
		t.Fatalf("%s %s: spec: %v", found[0].file, kind, err)
	}
	return found[0], s
}

func matches(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestKubernetesManifests checks the manifests against the daemon they run:
// its config loader, its listen port, the files it reads and writes, and the
// labels and port names that tie the objects together.
func TestKubernetesManifests(t *testing.T) {
	k, objs := manifests(t)
	for _, o := range objs {
		if o.Kind != "Namespace" && o.Metadata.Namespace != k.Namespace {
			t.Errorf("%s %s: namespace %q, want the kustomization's %q", o.file, o.Kind, o.Metadata.Namespace, k.Namespace)
		}
	}
	_, dep := one[deploymentSpec](t, objs, "Deployment")
	svcObj, svc := one[serviceSpec](t, objs, "Service")
	_, mon := one[serviceMonitorSpec](t, objs, "ServiceMonitor")
	_, pdb := one[pdbSpec](t, objs, "PodDisruptionBudget")
	cm, _ := one[yaml.Node](t, objs, "ConfigMap")
	pod := dep.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, found %d", len(pod.Containers))
	}
	c := pod.Containers[0]

	t.Run("image", func(t *testing.T) {
		for _, img := range k.Images {
			if img.Name == c.Image {
				if img.NewTag == "" || img.NewTag == "latest" {
					t.Errorf("kustomization images %s: tag %q: name the release, never latest", img.Name, img.NewTag)
				}
				return
			}
		}
		if _, tag, ok := strings.Cut(c.Image, ":"); !ok || tag == "latest" {
			t.Errorf("container image %q: no tag or latest, and no kustomization images entry sets one", c.Image)
		}
	})

	t.Run("replicas", func(t *testing.T) {
		if dep.Replicas != 3 {
			t.Errorf("replicas = %d, want 3", dep.Replicas)
		}
		if !matches(dep.Selector.MatchLabels, dep.Template.Metadata.Labels) {
			t.Error("the Deployment's selector does not select its own pods")
		}
		if !matches(svc.Selector, dep.Template.Metadata.Labels) {
			t.Error("the Service selects no pod of the Deployment")
		}
		if !matches(pdb.Selector.MatchLabels, dep.Template.Metadata.Labels) {
			t.Error("the PodDisruptionBudget selects no pod of the Deployment")
		}
		if pdb.MinAvailable == nil && pdb.MaxUnavailable == nil {
			t.Error("the PodDisruptionBudget bounds nothing")
		}
	})

	t.Run("security", func(t *testing.T) {
		sc, psc := c.SecurityContext, pod.SecurityContext
		if !(sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) && !(psc.RunAsNonRoot != nil && *psc.RunAsNonRoot) {
			t.Error("runAsNonRoot is not set")
		}
		if psc.RunAsUser != nil && fmt.Sprint(*psc.RunAsUser) != strings.Split(readRecipe(t).user, ":")[0] {
			t.Errorf("runAsUser %d is not the image's USER %s", *psc.RunAsUser, readRecipe(t).user)
		}
		if !sc.ReadOnlyRootFilesystem {
			t.Error("readOnlyRootFilesystem is not set")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Error("allowPrivilegeEscalation is not false")
		}
		if !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("capabilities: drop %v add %v, want drop [ALL] and nothing added", sc.Capabilities.Drop, sc.Capabilities.Add)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = psc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != "RuntimeDefault" {
			t.Error("seccompProfile is not RuntimeDefault")
		}
		if c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" || c.Resources.Requests["cpu"] == "" {
			t.Errorf("resources: want cpu and memory requests and a memory limit, have %+v", c.Resources)
		}
		for _, v := range pod.Volumes {
			if v.Secret != nil && (v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o077 != 0) {
				t.Errorf("volume %s: Secret %s mode: want defaultMode 0400 (the kubelet adds the fsGroup's read bit)", v.Name, v.Secret.SecretName)
			}
		}
	})

	// The pod's file system, laid out in a folder: each mount a folder (the
	// ConfigMap's serve.yaml a file), each secret file the config names
	// present, so that the daemon's own loader reads the config as it would
	// in the pod.
	root := t.TempDir()
	vols := map[string]volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	serveYAML, ok := cm.Data["serve.yaml"]
	if !ok {
		t.Fatalf("%s: the ConfigMap has no serve.yaml", cm.file)
	}
	var configPath string
	var mountPaths []string
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			t.Errorf("volumeMount %s: no such volume", m.Name)
			continue
		}
		if v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name && m.SubPath == "serve.yaml" {
			configPath = m.MountPath
			continue
		}
		mountPaths = append(mountPaths, m.MountPath)
		if err := os.MkdirAll(filepath.Join(root, m.MountPath), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if configPath != "/etc/netrecon/serve.yaml" {
		t.Fatalf("serve.yaml is mounted at %q, want /etc/netrecon/serve.yaml (the image's ENTRYPOINT)", configPath)
	}
	// Longest first, so a mount inside another is staged under its own path.
	sort.Slice(mountPaths, func(i, j int) bool { return len(mountPaths[i]) > len(mountPaths[j]) })
	quoted := make([]string, len(mountPaths))
	for i, p := range mountPaths {
		quoted[i] = regexp.QuoteMeta(p)
	}
	staged := regexp.MustCompile(`(^|[\s=:])(`+strings.Join(quoted, "|")+`)(/|\s|$)`).ReplaceAllString(serveYAML, "${1}"+root+"${2}${3}")
	mountOf := func(path string) (volumeMount, bool) {
		for _, m := range c.VolumeMounts {
			if m.SubPath == "" && (path == root+m.MountPath || strings.HasPrefix(path, root+m.MountPath+"/")) {
				return m, true
			}
		}
		return volumeMount{}, false
	}
	writable := func(m volumeMount) bool {
		v := vols[m.Name]
		return !m.ReadOnly && (v.EmptyDir != nil || v.PersistentVolumeClaim != nil)
	}

	// The secret files the config names: present, as the Secret would make them.
	var raw struct {
		Repo struct {
			Auth struct {
				TokenFile      string `yaml:"token_file"`
				PasswordFile   string `yaml:"password_file"`
				SSHKeyFile     string `yaml:"ssh_key_file"`
				PassphraseFile string `yaml:"passphrase_file"`
				KnownHostsFile string `yaml:"known_hosts_file"`
			} `yaml:"auth"`
		} `yaml:"repo"`
		Credentials struct {
			EnvFile string `yaml:"env_file"`
		} `yaml:"credentials"`
		Webhook struct {
			SecretFile string `yaml:"secret_file"`
		} `yaml:"webhook"`
		API struct {
			TokenFile     string `yaml:"token_file"`
			ReadTokenFile string `yaml:"read_token_file"`
		} `yaml:"api"`
		Signature struct {
			Keyring string `yaml:"keyring"`
		} `yaml:"signature"`
		KnownHosts string `yaml:"known_hosts"`
		State      struct {
			Database string `yaml:"database"`
		} `yaml:"state"`
	}
	if err := yaml.Unmarshal([]byte(staged), &raw); err != nil {
		t.Fatalf("%s: serve.yaml: %v", cm.file, err)
	}
	var passwordFile string
	if raw.State.Database != "" {
		u, err := url.Parse(raw.State.Database)
		if err != nil {
			t.Fatalf("state.database: %v", err)
		}
		passwordFile = u.Query().Get("password_file")
		if passwordFile == "" {
			t.Error("state.database names no password_file: the password would have to be in the URL or the environment")
		}
	}
	ra := raw.Repo.Auth
	secrets := []string{ra.TokenFile, ra.PasswordFile, ra.SSHKeyFile, ra.PassphraseFile, ra.KnownHostsFile, raw.Credentials.EnvFile, raw.Webhook.SecretFile, raw.API.TokenFile, raw.API.ReadTokenFile, raw.Signature.Keyring, raw.KnownHosts, passwordFile}
	for _, p := range secrets {
		if p == "" {
			continue
		}
		m, ok := mountOf(p)
		if !ok {
			t.Errorf("serve.yaml names %s, which is on no mounted volume", strings.TrimPrefix(p, root))
			continue
		}
		if vols[m.Name].Secret == nil || !m.ReadOnly {
			t.Errorf("%s: on volume %s, want a Secret mounted read-only", strings.TrimPrefix(p, root), m.Name)
		}
		if err := os.WriteFile(p, []byte("NETRECON_TEST=secret\n"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	cfgFile := filepath.Join(root, configPath)
	if err := os.WriteFile(cfgFile, []byte(staged), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, cfgFile)

	t.Run("private repo", func(t *testing.T) {
		// The pod fetches a private repo with a secret of its own: a URL
		// other than a local path names its credentials in repo.auth.
		if cfg.Repo.URL != "" && !strings.HasPrefix(cfg.Repo.URL, "file://") && cfg.Repo.Auth == nil {
			t.Errorf("repo.url %s with no repo.auth: the pod cannot fetch a private repo", cfg.Repo.URL)
		}
	})

	t.Run("replicas share a database", func(t *testing.T) {
		if dep.Replicas > 1 && raw.State.Database == "" {
			t.Errorf("%d replicas on the SQLite journal: set state.database (each replica would have a journal of its own)", dep.Replicas)
		}
	})

	t.Run("paths", func(t *testing.T) {
		// What the daemon reads: on a mount. What it writes: on a writable one.
		reads := map[string]string{"known_hosts": cfg.KnownHosts, "credentials.env_file": cfg.Credentials.EnvFile,
			"webhook.secret_file": cfg.Webhook.SecretFile, "api.token_file": cfg.API.TokenFile,
			"api.read_token_file": cfg.API.ReadTokenFile, "signature.keyring": cfg.Signature.Keyring, "repo.path": cfg.Repo.Path}
		if a := cfg.Repo.Auth; a != nil {
			for field, p := range map[string]string{"repo.auth.token_file": a.TokenFile, "repo.auth.password_file": a.PasswordFile,
				"repo.auth.ssh_key_file": a.SSHKeyFile, "repo.auth.passphrase_file": a.PassphraseFile, "repo.auth.known_hosts_file": a.KnownHostsFile} {
				reads[field] = p
			}
		}
		for i, tk := range cfg.API.Tokens {
			reads[fmt.Sprintf("api.tokens[%d].file", i)] = tk.File
		}
		for field, p := range reads {
			if p == "" {
				continue
			}
			if _, ok := mountOf(p); !ok {
				t.Errorf("%s %s is on no mounted volume (the root file system is read-only and the image's)", field, strings.TrimPrefix(p, root))
			}
		}
		if m, ok := mountOf(cfg.StateDir); !ok || !writable(m) {
			t.Errorf("state_dir %s: want a writable volume (the repo mirror, the lock; the SQLite journal on one machine)", strings.TrimPrefix(cfg.StateDir, root))
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		for _, name := range []string{"HOME", "XDG_CACHE_HOME", "TMPDIR"} {
			p, ok := env[name]
			if !ok {
				t.Errorf("env %s is not set: the image's would do, but the pod should say where it writes", name)
				continue
			}
			if m, ok := mountOf(root + p); !ok || !writable(m) {
				t.Errorf("env %s=%s: want a writable volume", name, p)
			}
		}
		if !sliceHas(mountPaths, "/tmp") {
			t.Error("no writable /tmp")
		}
	})

	t.Run("ports", func(t *testing.T) {
		_, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			t.Fatalf("listen %q: %v", cfg.Listen, err)
		}
		if host, _, _ := net.SplitHostPort(cfg.Listen); host == "127.0.0.1" || host == "localhost" || host == "::1" {
			t.Errorf("listen %q: loopback is out of the kubelet's and Prometheus' reach", cfg.Listen)
		}
		names := map[string]int{}
		for _, p := range c.Ports {
			names[p.Name] = p.ContainerPort
			if fmt.Sprint(p.ContainerPort) != port {
				t.Errorf("containerPort %d (%s) is not the config's listen port %s", p.ContainerPort, p.Name, port)
			}
		}
		resolve := func(what string, p any) {
			switch v := p.(type) {
			case string:
				if _, ok := names[v]; !ok {
					t.Errorf("%s: port %q is not a container port's name", what, v)
				}
			case int:
				if fmt.Sprint(v) != port {
					t.Errorf("%s: port %d is not the listen port %s", what, v, port)
				}
			default:
				t.Errorf("%s: port %v", what, p)
			}
		}
		svcPorts := map[string]bool{}
		for _, p := range svc.Ports {
			svcPorts[p.Name] = true
			resolve("Service port "+p.Name+" targetPort", p.TargetPort)
		}
		if len(mon.Endpoints) == 0 {
			t.Error("the ServiceMonitor has no endpoint")
		}
		for _, e := range mon.Endpoints {
			if !svcPorts[e.Port] {
				t.Errorf("ServiceMonitor endpoint port %q is not a port name of the Service", e.Port)
			}
			if e.Path != "/metrics" {
				t.Errorf("ServiceMonitor path %q, want /metrics", e.Path)
			}
		}
		if !matches(mon.Selector.MatchLabels, svcObj.Metadata.Labels) {
			t.Error("the ServiceMonitor's selector does not match the Service's labels")
		}
		for what, pr := range map[string]*probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe} {
			if pr != nil && pr.HTTPGet != nil {
				resolve(what, pr.HTTPGet.Port)
			}
		}
	})

	t.Run("probes", func(t *testing.T) {
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("livenessProbe: want GET /healthz")
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("readinessProbe: want GET /readyz")
		}
		paths := []string{"/metrics"}
		for _, pr := range []*probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if pr != nil && pr.HTTPGet != nil {
				paths = append(paths, pr.HTTPGet.Path)
			}
		}
		probePaths(t, paths)
	})
}

func sliceHas(s []string, v string) bool { return slices.Contains(s, v) }

// loadConfig loads the staged serve.yaml with the daemon's own loader.
func loadConfig(t *testing.T, path string) *daemon.Config {
	t.Helper()
	cfg, err := daemon.LoadConfig(path)
	if err != nil {
		t.Fatalf("the ConfigMap's serve.yaml does not load:\n%v", err)
	}
	return cfg
}

// probePaths starts the daemon's real handler after one pass and GETs each
// path: the kubelet would restart or hold back a pod whose probe answers
// anything but 200.
func probePaths(t *testing.T, paths []string) {
	t.Helper()
	dir := t.TempDir()
	repo := filepath.Join(dir, "intent")
	if err := os.CopyFS(repo, os.DirFS("testdata/intent")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.net", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "intent"}} {
		if b, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, b)
		}
	}
	cfg := &daemon.Config{Repo: daemon.RepoConfig{Path: repo}, StateDir: filepath.Join(dir, "state"), Listen: "127.0.0.1:0"}
	cfg.Defaults()
	ctx := context.Background()
	d, err := daemon.New(ctx, cfg, daemon.Options{Dialer: func(*schema.Intent, daemon.Credentials) reconcile.Dialer {
		return reconcile.DialFunc(func(context.Context, *schema.Device) (reconcile.Device, error) {
			return nil, errors.New("the inventory has no device to dial")
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	get := func(p string) int {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Before the first pass a replica is alive but not ready.
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz before any pass: %d, want 503", code)
	}
	if p := d.SyncOnce(ctx, daemon.ReasonStart); p.Commit == "" {
		t.Fatalf("the pass compared no commit: %+v", p)
	}
	for _, p := range paths {
		if code := get(p); code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", p, code)
		}
	}
}
