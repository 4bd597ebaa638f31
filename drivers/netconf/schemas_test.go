package netconf

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/netrecon/netrecon/reconcile"
)

const monitoringCap = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring?module=ietf-netconf-monitoring&amp;revision=2010-10-04"

func TestSchemasFromFake(t *testing.T) {
	srv := newFakeServer(t, func(rpc []byte) (string, bool) {
		r := string(rpc)
		switch {
		case strings.Contains(r, "<schemas"):
			return `<data><netconf-state xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><schemas>
			<schema><identifier>ietf-ip</identifier><version>2014-06-16</version><format xmlns:ncm="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring">ncm:yang</format>
			<namespace>urn:ietf:params:xml:ns:yang:ietf-ip</namespace><location>NETCONF</location></schema>
			<schema><identifier>x</identifier><version></version><format>yin</format><namespace>urn:x</namespace><location>http://example.net/x.yin</location></schema>
			</schemas></netconf-state></data>`, false
		case strings.Contains(r, "<identifier>ietf-ip</identifier>") && strings.Contains(r, "<format>yang</format>"):
			return `<data xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring">module ietf-ip { prefix "ip"; description "a &lt; b"; }</data>`, false
		case strings.Contains(r, "<identifier>rfc</identifier>"):
			// RFC 6022 3.1: a schema the device does not have.
			return `<rpc-error><error-type>application</error-type><error-tag>invalid-value</error-tag><error-severity>error</error-severity></rpc-error>`, false
		case strings.Contains(r, "<identifier>yuma</identifier>"):
			// What yuma123 netconfd answers instead (lab_test.go).
			return `<rpc-error><error-type>application</error-type><error-tag>operation-failed</error-tag><error-severity>error</error-severity>` +
				`<error-path>/nc:rpc/ncm:get-schema/ncm:identifier</error-path><error-message>no matches found</error-message></rpc-error>`, false
		case strings.Contains(r, "<identifier>busy</identifier>"):
			return `<rpc-error><error-type>application</error-type><error-tag>operation-failed</error-tag><error-severity>error</error-severity></rpc-error>`, false
		}
		return "<ok/>", false
	}, monitoringCap)
	ctx := context.Background()
	s, err := Dial(ctx, srv.Target(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	list, err := s.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Identifier != "ietf-ip" || list[0].Version != "2014-06-16" || list[0].Format != "yang" ||
		list[0].Namespace != "urn:ietf:params:xml:ns:yang:ietf-ip" || !list[0].ServedByNETCONF() || list[1].ServedByNETCONF() || list[1].Format != "yin" {
		t.Errorf("Schemas = %+v", list)
	}
	text, err := s.GetSchema(ctx, "ietf-ip", "2014-06-16", "")
	if err != nil || text != `module ietf-ip { prefix "ip"; description "a < b"; }` {
		t.Errorf("GetSchema = %q, %v", text, err)
	}
	for _, id := range []string{"rfc", "yuma"} {
		_, err := s.GetSchema(ctx, id, "", "")
		var re *RPCError
		if !errors.Is(err, ErrSchemaNotFound) || !errors.As(err, &re) || re.Op != "get-schema "+id {
			t.Errorf("GetSchema(%s) = %v, want ErrSchemaNotFound", id, err)
		}
	}
	if _, err := s.GetSchema(ctx, "busy", "", ""); err == nil || errors.Is(err, ErrSchemaNotFound) {
		t.Errorf("GetSchema(busy) = %v: another failure is not a missing schema", err)
	}
}

func TestSchemasNeedMonitoring(t *testing.T) {
	srv := newFakeServer(t, func([]byte) (string, bool) {
		t.Error("a request was sent to a device without ietf-netconf-monitoring")
		return "<ok/>", false
	})
	ctx := context.Background()
	s, err := Dial(ctx, srv.Target(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	var ue *UnsupportedError
	if _, err := s.Schemas(ctx); !errors.As(err, &ue) || ue.Device == "" {
		t.Errorf("Schemas = %v, want *UnsupportedError", err)
	}
	if _, err := s.GetSchema(ctx, "a", "", ""); !errors.As(err, &ue) {
		t.Errorf("GetSchema = %v, want *UnsupportedError", err)
	}
	if errors.Is(err, reconcile.ErrSessionLost) {
		t.Error("unsupported is not a lost session")
	}
}
