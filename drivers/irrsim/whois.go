package irrsim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/netrecon/netrecon/rpsl"
)

// defaultIdle is how long a connection may stay silent before the server
// closes it; IRRd's default, changed per connection by !t.
const defaultIdle = 30 * time.Second

// whoisSession is one client connection's state: IRRd keeps the multiple
// command mode (!! or -k) and the selected sources (!s, -s) per connection.
type whoisSession struct {
	db      *Database
	multi   bool
	sources []string
	idle    time.Duration
}

// serveWhois answers RFC 3912 whois on one connection: the client sends a
// query line, the server answers; without multiple command mode it closes
// the connection after the first answer, as RFC 3912 §2 says.
func (db *Database) serveWhois(conn net.Conn) {
	defer conn.Close()
	s := &whoisSession{db: db, sources: []string{db.name}, idle: defaultIdle}
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	for {
		if err := conn.SetReadDeadline(time.Now().Add(s.idle)); err != nil {
			return
		}
		line, err := r.ReadString('\n')
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			return
		}
		query := strings.TrimRight(line, "\r\n")
		if query == "" {
			if err != nil {
				return
			}
			continue
		}
		answer, quit := s.handle(query)
		db.log.Debug("whois query", "db", db.name, "query", query, "answer_bytes", len(answer))
		if _, werr := w.WriteString(answer); werr != nil {
			return
		}
		if werr := w.Flush(); werr != nil {
			return
		}
		if quit || !s.multi || err != nil {
			return
		}
	}
}

// handle answers one query; quit says the client asked to close.
func (s *whoisSession) handle(query string) (answer string, quit bool) {
	if strings.HasPrefix(query, "!") {
		return s.irrd(query[1:])
	}
	return s.ripe(query), false
}

// IRRd's framing of an answer to a "!" query (IRRd's whois documentation):
// data as "A<length>\n<data>\nC\n" where length counts the data and its
// newline; "C\n" success without data; "D\n" key not found; "F <msg>\n" error.
func irrdData(data string) string {
	if data == "" {
		return "C\n"
	}
	return "A" + strconv.Itoa(len(data)+1) + "\n" + data + "\nC\n"
}

const irrdNotFound = "D\n"

func irrdError(format string, args ...any) string { return "F " + fmt.Sprintf(format, args...) + "\n" }

func (s *whoisSession) irrd(cmd string) (string, bool) {
	if cmd == "" {
		return irrdError("Missing IRRD command"), false
	}
	op, arg := cmd[0], cmd[1:]
	if strings.IndexByte("tg6aimso", op) >= 0 && arg == "" {
		return irrdError("Missing parameter for %c query", op), false
	}
	switch op {
	case '!':
		// Multiple command mode; IRRd sends no answer at all to it.
		s.multi = true
		return "", false
	case 'q':
		return "", true
	case 'v':
		return irrdData("IRRd -- version 4.4.0 (netrecon irrsim)"), false
	case 't':
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 1000 {
			return irrdError("Invalid value for timeout: %s", arg), false
		}
		s.idle = time.Duration(n) * time.Second
		return irrdData(""), false
	case 'n':
		return irrdData(""), false
	case 's':
		if arg == "-lc" {
			return irrdData(strings.Join(s.sources, ",")), false
		}
		var srcs []string
		for _, src := range strings.Split(strings.ToUpper(arg), ",") {
			if src != s.db.name {
				return irrdError("One or more selected sources are unavailable: %s", src), false
			}
			srcs = append(srcs, src)
		}
		s.sources = srcs
		return irrdData(""), false
	}
	if !s.selected() {
		return irrdNotFound, false
	}
	switch op {
	case 'g', '6':
		n, err := rpsl.ParseASN(arg)
		if err != nil {
			return irrdError("Invalid AS number %s: %v", arg, err), false
		}
		class := "route"
		if op == '6' {
			class = "route6"
		}
		return found(s.db.store.prefixes(class, map[uint32]bool{n: true})), false
	case 'a':
		classes := []string{"route", "route6"}
		switch {
		case strings.HasPrefix(arg, "4"):
			classes, arg = classes[:1], arg[1:]
		case strings.HasPrefix(arg, "6"):
			classes, arg = classes[1:], arg[1:]
		}
		members, ok := s.db.store.setMembers(arg, true)
		if !ok {
			return irrdNotFound, false
		}
		asns := map[uint32]bool{}
		for _, m := range members {
			if n, err := rpsl.ParseASN(m); err == nil {
				asns[n] = true
			}
		}
		var ps []string
		for _, c := range classes {
			ps = append(ps, s.db.store.prefixes(c, asns)...)
		}
		return found(ps), false
	case 'i':
		name, recursive := strings.CutSuffix(arg, ",1")
		members, ok := s.db.store.setMembers(name, recursive)
		if !ok {
			return irrdNotFound, false
		}
		return found(members), false
	case 'm':
		class, key, ok := strings.Cut(arg, ",")
		if !ok {
			return irrdError("Invalid argument for object lookup: %s", arg), false
		}
		o, ok := s.db.store.get(class, key)
		if !ok {
			return irrdNotFound, false
		}
		return irrdData(strings.TrimSuffix(printObject(o, false), "\n")), false
	case 'o':
		objs := s.db.store.inverse("mnt-by", arg)
		if len(objs) == 0 {
			return irrdNotFound, false
		}
		return irrdData(strings.TrimSuffix(printObjects(objs, false), "\n")), false
	}
	return irrdError("Unrecognised command: %c", op), false
}

// found frames a space-separated list, "D" when it is empty, as IRRd does for
// !g, !6, !a and !i.
func found(items []string) string {
	if len(items) == 0 {
		return irrdNotFound
	}
	return irrdData(strings.Join(items, " "))
}

func (s *whoisSession) selected() bool {
	for _, src := range s.sources {
		if src == s.db.name {
			return true
		}
	}
	return false
}

// ripeNotFound is what IRRd answers a RIPE-style query that finds nothing.
const ripeNotFound = "%  No entries found for the selected source(s).\n\n\n"

// ripe answers a RIPE-style query ("-T as-set -r AS-FOO"): flags, then a
// search key; the answer is RPSL text, objects separated by blank lines,
// ending with two empty lines (IRRd's form).
func (s *whoisSession) ripe(query string) string {
	fields := strings.Fields(query)
	var classes []string
	keysOnly := false
	var key []string
	var inverse []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if !strings.HasPrefix(f, "-") || len(f) < 2 {
			key = append(key, f)
			continue
		}
		needArg := func() (string, bool) {
			if i+1 >= len(fields) {
				return "", false
			}
			i++
			return fields[i], true
		}
		switch f {
		case "-r", "-B", "-G", "-a":
			// No referral, no filtering, all sources: nothing to change here.
		case "-k":
			s.multi = true
		case "-K":
			keysOnly = true
		case "-T":
			v, ok := needArg()
			if !ok {
				return "%% ERROR: -T needs object classes\n\n\n"
			}
			classes = append(classes, strings.Split(strings.ToLower(v), ",")...)
		case "-s":
			v, ok := needArg()
			if !ok {
				return "%% ERROR: -s needs sources\n\n\n"
			}
			s.sources = strings.Split(strings.ToUpper(v), ",")
		case "-V":
			needArg()
		case "-i":
			attr, ok1 := needArg()
			val, ok2 := needArg()
			if !ok1 || !ok2 {
				return "%% ERROR: -i needs an attribute and a value\n\n\n"
			}
			inverse = []string{strings.ToLower(attr), val}
		default:
			return fmt.Sprintf("%%%% ERROR: unsupported flag %s\n\n\n", f)
		}
	}
	if inverse != nil {
		if !s.selected() {
			return ripeNotFound
		}
		return ripeObjects(filterClasses(s.db.store.inverse(inverse[0], inverse[1]), classes), keysOnly)
	}
	if len(key) == 0 {
		if s.multi {
			return ""
		}
		return "%% ERROR: no search key\n\n\n"
	}
	if !s.selected() {
		return ripeNotFound
	}
	return ripeObjects(s.db.store.lookup(strings.Join(key, " "), classes), keysOnly)
}

func filterClasses(objs []*rpsl.Object, classes []string) []*rpsl.Object {
	if len(classes) == 0 {
		return objs
	}
	var out []*rpsl.Object
	for _, o := range objs {
		for _, c := range classes {
			if o.Class() == c {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

func ripeObjects(objs []*rpsl.Object, keysOnly bool) string {
	if len(objs) == 0 {
		return ripeNotFound
	}
	return printObjects(objs, keysOnly) + "\n\n"
}

// printObjects prints objects for a whois answer, separated by blank lines.
func printObjects(objs []*rpsl.Object, keysOnly bool) string {
	parts := make([]string, len(objs))
	for i, o := range objs {
		parts[i] = printObject(o, keysOnly)
	}
	return strings.Join(parts, "\n")
}

// printObject prints an object as whois shows it: password hashes filtered
// out, as IRRd does, and with -K only the primary key attributes.
func printObject(o *rpsl.Object, keysOnly bool) string {
	o = o.Clone()
	if keysOnly {
		keep := []rpsl.Attr{o.Attrs[0]}
		if origin, ok := o.Get("origin"); ok && (o.Class() == "route" || o.Class() == "route6") {
			keep = append(keep, rpsl.Attr{Name: "origin", Value: origin})
		}
		o.Attrs = keep
	}
	for i, a := range o.Attrs {
		if a.Name != "auth" {
			continue
		}
		scheme, _, _ := strings.Cut(a.Value, " ")
		switch strings.ToUpper(scheme) {
		case "BCRYPT-PW", "MD5-PW", "CRYPT-PW":
			o.Attrs[i].Value = strings.ToUpper(scheme) + " DummyValue  # Filtered for security"
		}
	}
	return rpsl.Format(o)
}

// acceptLoop hands each connection to serve until the listener closes; Close
// ends the open connections.
func (s *Sim) acceptLoop(ln net.Listener, what string, serve func(net.Conn)) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("accept failed", "server", what, "err", err)
			}
			return
		}
		if !s.trackConn(conn, true) {
			conn.Close()
			return
		}
		s.wg.Go(func() {
			defer s.trackConn(conn, false)
			serve(conn)
		})
	}
}
