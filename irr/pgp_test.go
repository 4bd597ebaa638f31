package irr

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/drivers/irrsim"
	"github.com/netrecon/netrecon/schema"
)

// armored serializes key (private with priv) as ASCII armor.
func armored(t *testing.T, key *openpgp.Entity, priv bool) string {
	t.Helper()
	var b bytes.Buffer
	typ := openpgp.PublicKeyType
	if priv {
		typ = openpgp.PrivateKeyType
	}
	w, err := armor.Encode(&b, typ, nil)
	if err != nil {
		t.Fatal(err)
	}
	if priv {
		err = key.SerializePrivate(w, nil)
	} else {
		err = key.Serialize(w)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.String()
}

// A maintainer authenticated by PGP: the submission is clear-signed with the
// key the settings refer to, and the simulated registry (which checks the
// signature against its key-cert) accepts it.
func TestRegisterPGPSigned(t *testing.T) {
	ctx := context.Background()
	sim := startSim(t, "", irrsim.DatabaseOptions{Name: "RADB"})
	key, err := openpgp.NewEntity("netrecon NOC", "", "noc@netrecon.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sim.DB("RADB")
	id := fmt.Sprintf("PGPKEY-%08X", uint32(key.PrimaryKey.KeyId))
	kc := mustObject(t, "key-cert: "+id+"\nmnt-by: MAINT-PGP\nsource: RADB\n")
	kc.Set("certif", strings.TrimSpace(armored(t, key, false)))
	db.Put(kc)
	db.Put(mustObject(t, "mntner: MAINT-PGP\nauth: "+id+"\nmnt-by: MAINT-PGP\nsource: RADB\n"))
	db.Put(mustObject(t, "as-set: AS-PGP-CUSTOMERS\nmembers: AS132001\nmnt-by: MAINT-PGP\nsource: RADB\n"))

	keyFile := filepath.Join(t.TempDir(), "irr-key.asc")
	if err := os.WriteFile(keyFile, []byte(armored(t, key, true)), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := settingsFor(sim, nil)
	settings.Databases[0].Auth = schema.IRRAuth{PGP: &schema.IRRPGP{Key: schema.SecretRef("file:" + keyFile), KeyID: fmt.Sprintf("0x%016X", key.PrimaryKey.KeyId)}}
	in := &schema.Intent{IRR: settings, Services: []*schema.Service{customer("acme", "AS132004", "AS-PGP-CUSTOMERS", "RADB")}}
	r := &Registrar{Journal: openJournal(t), Alarms: &alarmLog{}, Mailer: direct{sim}, Whois: testWhois(), Now: (&clock{t: time.Now()}).Now}
	for range 2 {
		if err := r.Follow(ctx, in, "c1"); err != nil {
			t.Fatal(err)
		}
	}
	if s := statusOf(t, r)["RADB/AS-PGP-CUSTOMERS"]; s.State != api.IRRRegistered {
		t.Fatalf("PGP-signed: %+v", s)
	}
	if o, _ := db.Object("as-set", "AS-PGP-CUSTOMERS"); strings.Join(o.List("members"), ",") != "AS132001,AS132004" {
		t.Fatalf("members %v", o.List("members"))
	}
	subs := db.Submissions()
	if last := subs[len(subs)-1]; len(last.Results) != 1 || !last.Results[0].OK {
		t.Fatalf("the registry's verdict: %+v", last)
	}

	// A key ID the key ring does not hold is netrecon's error, before any mail.
	settings.Databases[0].Auth.PGP.KeyID = "0xDEADBEEFDEADBEEF"
	in.Services = append(in.Services, customer("globex", "AS132005", "AS-PGP-CUSTOMERS", "RADB"))
	if err := r.Follow(ctx, in, "c2"); err != nil {
		t.Fatal(err)
	}
	if s := statusOf(t, r)["RADB/AS-PGP-CUSTOMERS"]; s.State != api.IRRFailed || !strings.Contains(s.Message, "no private key 0xDEADBEEFDEADBEEF") || strings.Contains(s.Message, "PRIVATE KEY") {
		t.Fatalf("unknown key id: %+v", s)
	}
	if len(db.Submissions()) != len(subs) {
		t.Fatal("mailed without a signature")
	}
}
