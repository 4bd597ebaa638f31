package render

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netrecon/netrecon/configtree"
	"github.com/netrecon/netrecon/lab/labtest"
	"github.com/netrecon/netrecon/schema"
)

// TestNetconfdAcceptsIETF pushes the ietf goldens' trees to a real yuma123
// netconfd with exactly the modules the lab loads, commits, reads running
// back and checks it is the same tree: the built-in templates are what the
// server's YANG modules accept, and what the device answers is what netrecon
// renders (no phantom drift). It talks to netconfd through netconf-subsystem
// on pipes, as sshd would, so it needs no SSH. Skipped without netconfd;
// failed in CI (CI=true), where a skip would hide a broken check.
func TestNetconfdAcceptsIETF(t *testing.T) {
	const netconfd, subsystem = "/usr/sbin/netconfd", "/usr/sbin/netconf-subsystem"
	for _, b := range []string{netconfd, subsystem} {
		if _, err := os.Stat(b); err != nil {
			labtest.Missing(t, "%s missing (apt-get install netconfd)", b)
		}
	}

	// The union of every ietf device of the scenarios: their names do not
	// overlap, so one datastore holds them all.
	want := configtree.New()
	dirs, _ := filepath.Glob("testdata/*/intent.json")
	for _, f := range dirs {
		if filepath.Base(filepath.Dir(f)) == "bgp-customer" {
			// Rendered to the OpenConfig BGP and policy models, which the
			// lab's modules do not include: yuma123 2.13 fails to load
			// openconfig-bgp (an identityref base in a submodule).
			continue
		}
		in := loadScenario(t, filepath.Dir(f))
		r := mustNew(t, in)
		for _, d := range in.Devices {
			if d.Platform != schema.PlatformIETF {
				continue
			}
			tree, diags := r.Device(d.Name)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if err := configtree.Merge(want, tree); err != nil {
				t.Fatal(err)
			}
		}
	}
	var payload bytes.Buffer
	if err := want.WriteXML(&payload, configtree.WriteOptions{}); err != nil {
		t.Fatal(err)
	}

	got := pushToNetconfd(t, []string{"--module=iana-if-type", "--module=ietf-interfaces", "--module=ietf-ip",
		"--module=ietf-routing", "--module=ietf-ipv4-unicast-routing", "--module=ietf-ipv6-unicast-routing"},
		payload.String(), "interfaces", "routing")
	t.Logf("running holds %d nodes of netrecon's, rendered %d", got.Len(), want.Len())
	if !got.Equal(want) {
		t.Errorf("running differs from what was rendered\nrendered:\n%s\nrunning:\n%s", want, got)
	}
}

// TestNetconfdAcceptsOpenConfigPolicy pushes the prefix sets and the import
// policy that bgp-customer renders for ietf PEs to a real netconfd loading
// openconfig-routing-policy (lab/yang/openconfig), commits, and reads them
// back equal: with a list and with an empty (deny-all) one. The neighbour's
// half (openconfig-network-instance) is not pushed: yuma123 cannot load
// openconfig-bgp (lab/yang/openconfig/README.md).
func TestNetconfdAcceptsOpenConfigPolicy(t *testing.T) {
	for _, b := range []string{"/usr/sbin/netconfd", "/usr/sbin/netconf-subsystem"} {
		if _, err := os.Stat(b); err != nil {
			labtest.Missing(t, "%s missing (apt-get install netconfd)", b)
		}
	}
	mods, err := filepath.Abs("../lab/yang/openconfig")
	if err != nil {
		t.Fatal(err)
	}
	in := loadScenario(t, "testdata/bgp-customer")
	tree, diags := mustNew(t, in).Device("pe1-tyo")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := configtree.New()
	for _, c := range tree.Root.Children {
		if c.Name == "routing-policy" {
			want.Root.Children = append(want.Root.Children, c)
		}
	}
	if want.Len() == 0 {
		t.Fatal("pe1-tyo renders no routing-policy")
	}
	var payload bytes.Buffer
	if err := want.WriteXML(&payload, configtree.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	got := pushToNetconfd(t, []string{"--modpath=" + mods + ":/usr/share/yuma/modules", "--module=openconfig-routing-policy"},
		payload.String(), "routing-policy")
	if !got.Equal(want) {
		t.Errorf("running differs from what was rendered\nrendered:\n%s\nrunning:\n%s", want, got)
	}
}

// pushToNetconfd starts netconfd with modules, edits the candidate with
// payload, commits, and returns running's top-level elements named top.
func pushToNetconfd(t *testing.T, modules []string, payload string, top ...string) *configtree.Tree {
	t.Helper()
	const netconfd, subsystem = "/usr/sbin/netconfd", "/usr/sbin/netconf-subsystem"
	dir := t.TempDir()
	sock := filepath.Join(dir, "ncx.sock")
	// netconf-subsystem refuses a session whose SSH port is not netconfd's
	// --port; the port is only compared, nothing listens on it.
	const port = "18930"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, netconfd, append(modules,
		"--superuser="+currentUser(), "--no-startup", "--port="+port, "--ncxserver-sockname="+sock)...)
	srv.Dir = dir
	srv.Env = append(os.Environ(), "HOME="+dir)
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		if t.Failed() {
			t.Logf("netconfd output:\n%s", srvLog.String())
		}
	}()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("netconfd did not create its socket in 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}

	cli := exec.CommandContext(ctx, subsystem, "--ncxserver-sockname="+port+"@"+sock)
	cli.Env = append(os.Environ(), "SSH_CONNECTION=127.0.0.1 40000 127.0.0.1 "+port, "USER="+currentUser())
	stdin, err := cli.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cli.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cli.Wait() }()
	msgs := make(chan string)
	go readFrames(stdout, msgs)
	next := func() string {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatal("netconf-subsystem closed the session")
			}
			return m
		case <-ctx.Done():
			t.Fatal("no reply from netconfd")
		}
		return ""
	}
	send := func(body string) string {
		t.Helper()
		if _, err := io.WriteString(stdin, body+"]]>]]>"); err != nil {
			t.Fatal(err)
		}
		return next()
	}
	next() // the server's hello
	if _, err := io.WriteString(stdin, `<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>`); err != nil {
		t.Fatal(err)
	}
	const rpc = `<rpc message-id="%d" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">%s</rpc>`
	for i, op := range []string{
		`<edit-config><target><candidate/></target><config>` + payload + `</config></edit-config>`,
		`<commit/>`,
	} {
		if reply := send(fmt.Sprintf(rpc, i+1, op)); !strings.Contains(reply, "<ok/>") {
			t.Fatalf("netconfd refused %.40s...:\n%s", op, reply)
		}
	}
	reply := send(fmt.Sprintf(rpc, 3, `<get-config><source><running/></source></get-config>`))
	got, err := configtree.ParseData(strings.NewReader(dataElement(t, reply)), "get-config reply", Keys(schema.PlatformIETF, nil))
	if err != nil {
		t.Fatal(err)
	}
	// Keep only what netrecon renders: netconfd adds its own <nacm>.
	kept := got.Root.Children[:0]
	for _, c := range got.Root.Children {
		if slices.Contains(top, c.Name) {
			kept = append(kept, c)
		}
	}
	got.Root.Children = kept
	send(fmt.Sprintf(rpc, 4, `<close-session/>`))
	return got
}

// readFrames splits a NETCONF 1.0 stream into messages at the ]]>]]>
// end-of-message marker (RFC 6242 §4.3).
func readFrames(r io.Reader, out chan<- string) {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.Index(data, []byte("]]>]]>")); i >= 0 {
			return i + 6, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), nil, io.ErrUnexpectedEOF
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		out <- sc.Text()
	}
}

// dataElement returns the <data> element of an rpc-reply, as text.
func dataElement(t *testing.T, reply string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(reply))
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			t.Fatalf("no <data> in reply:\n%s", reply)
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "data" {
			if err := d.Skip(); err != nil {
				t.Fatal(err)
			}
			// Re-declare the namespaces of the enclosing rpc-reply, which the
			// slice would otherwise lose.
			return strings.Replace(reply[start:d.InputOffset()], "<data",
				`<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"`, 1)
		}
	}
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}
