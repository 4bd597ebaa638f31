package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/netrecon/netrecon/api"
	"github.com/netrecon/netrecon/forge/github"
	"github.com/netrecon/netrecon/orders"
	"github.com/netrecon/netrecon/reconcile/journal"
)

// maxOrderBody caps an order's body: one service's fields.
const maxOrderBody = 1 << 20

// newOrders builds the order intake of Config.Orders; nil when it is off.
func (d *Daemon) newOrders() (*orders.Intake, error) {
	oc := d.cfg.Orders
	if oc == nil {
		return nil, nil
	}
	cfg := orders.Config{Journal: d.journal, Mirror: d.mirror, Branch: d.cfg.Repo.Branch, Author: oc.Author, Email: oc.Email,
		Evaluator: d.opts.Evaluator, Logger: d.log.With("component", "orders"), Now: d.now}
	if g := oc.GitHub; g != nil {
		if err := d.checkSecretFile("orders.github.token_file", g.TokenFile); err != nil {
			return nil, err
		}
		tok, err := os.ReadFile(g.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("orders.github.token_file: %w", err)
		}
		opts := []github.Option{github.WithBaseURL(g.APIURL), github.WithToken(string(tok)), github.WithLogger(d.log.With("component", "orders"))}
		if d.opts.HTTPClient != nil {
			opts = append(opts, github.WithHTTPClient(d.opts.HTTPClient))
		}
		c, err := github.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("orders.github: %w", err)
		}
		cfg.GitHub = &orders.GitHub{Client: c, Repo: g.Repo}
	}
	in, err := orders.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	return in, nil
}

func apiOrder(s orders.Status) api.Order {
	o := api.Order{OrderID: s.ID, State: s.State, Path: s.Path, Branch: s.Branch, PRURL: s.PRURL, Commit: s.Commit,
		MergeCommit: s.MergeCommit, Detail: s.Detail, Created: s.Created, Updated: s.Updated,
		URL: "/api/v1/orders/" + url.PathEscape(s.ID)}
	if !s.Merged.IsZero() {
		o.Merged = &s.Merged
	}
	if !s.Applied.IsZero() {
		o.Applied = &s.Applied
	}
	return o
}

var errOrdersOff = "the order API is off: set orders: in serve.yaml (docs/orders.md)"

// postOrder is POST /api/v1/orders: 201 for a new order, 200 for the same
// order again, 422 with every error of a bad one, 409 for a known id with
// another body, 502 when the push or the forge failed (the order stays
// proposing; sending it again finishes it).
func (d *Daemon) postOrder(w http.ResponseWriter, r *http.Request, c caller) {
	if d.orders == nil {
		writeJSON(w, http.StatusNotFound, apiErr(errOrdersOff))
		return
	}
	req, err := decodeOrder(http.MaxBytesReader(w, r.Body, maxOrderBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr(err.Error()))
		return
	}
	o := orders.Order{ID: req.OrderID, ServiceType: req.ServiceType, Name: req.Name, Customer: req.Customer,
		Labels: req.Labels, Fields: req.Fields}
	st, created, err := d.orders.Submit(r.Context(), o)
	var inv *orders.InvalidError
	var conflict *orders.ConflictError
	switch {
	case errors.As(err, &inv):
		out := api.OrderInvalid{Error: fmt.Sprintf("order %s has %d error(s); nothing was written", req.OrderID, len(inv.Problems)),
			Problems: make([]api.OrderProblem, len(inv.Problems))}
		for i, p := range inv.Problems {
			out.Problems[i] = api.OrderProblem{Field: p.Field, Message: p.Message, At: p.At}
		}
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	case errors.As(err, &conflict):
		writeJSON(w, http.StatusConflict, apiErr(err.Error()))
		return
	case err != nil && st.ID == "":
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	case err != nil:
		writeJSON(w, http.StatusBadGateway, apiErr(err.Error()+"; the order is recorded as proposing: send it again to finish it"))
		return
	}
	v := apiOrder(st)
	w.Header().Set("Location", v.URL)
	if !created {
		writeJSON(w, http.StatusOK, v)
		return
	}
	if _, err := d.journal.RecordAction(r.Context(), journal.Action{Action: "order", Target: st.ID, Who: c.token, Token: c.token,
		Reason: "order API", Detail: "proposed " + st.Path + " on " + st.Branch + orIf(st.PRURL, ": ")}); err != nil {
		d.log.Error("journal: record an order", "order", st.ID, "err", err)
	}
	writeJSON(w, http.StatusCreated, v)
}

func orIf(s, sep string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// decodeOrder reads an order strictly: unknown top-level fields are
// errors (a misspelt field must not be dropped silently), numbers stay
// exact, and a syntax error says where it is.
func decodeOrder(r io.Reader) (api.OrderRequest, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return api.OrderRequest{}, fmt.Errorf("body: more than %d bytes", mb.Limit)
		}
		return api.OrderRequest{}, fmt.Errorf("body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var req api.OrderRequest
	if err := dec.Decode(&req); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			// Offset is just past the byte that broke the syntax.
			return req, fmt.Errorf("body:%s: %s", lineCol(body, se.Offset-1), se.Error())
		case errors.As(err, &te):
			return req, fmt.Errorf("body:%s: %s: want %s, not %s", lineCol(body, te.Offset), te.Field, te.Type, te.Value)
		case errors.Is(err, io.EOF):
			return req, errors.New("body: empty; want an order: {order_id, service_type, name, customer, fields}")
		}
		return req, fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return req, fmt.Errorf("body:%s: more after the order; send one order per request", lineCol(body, dec.InputOffset()))
	}
	return req, nil
}

// lineCol turns a byte offset of body into line:column (1-based).
func lineCol(body []byte, off int64) string {
	off = min(max(off, 0), int64(len(body)))
	before := body[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("%d:%d", line, col)
}

func (d *Daemon) getOrder(w http.ResponseWriter, r *http.Request, _ caller) {
	if d.orders == nil {
		writeJSON(w, http.StatusNotFound, apiErr(errOrdersOff))
		return
	}
	st, err := d.orders.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, journal.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiErr("no order "+r.PathValue("id")))
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiErr(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, apiOrder(st))
}

// followOrders tells the order intake what the pass did: the head it
// fetched, the commit it reconciled to, the last commit every device was
// brought to, and the services on devices that failed.
func (d *Daemon) followOrders(ctx context.Context, s *passState) {
	if d.orders == nil || s.head == "" {
		return
	}
	d.mu.Lock()
	applied := d.lastApplied
	failed := map[string]string{}
	for dev, r := range s.results {
		if r.state != StateFailing {
			continue
		}
		why := dev + ": failed"
		if r.err != nil {
			why = dev + ": " + r.err.Error()
		}
		for _, svc := range d.byDevice[dev] {
			failed[svc] = why
		}
	}
	inSync := map[string]bool{}
	if s.commit != "" {
		for _, si := range d.services {
			all := len(si.devices) > 0
			for _, dev := range si.devices {
				st, ok := d.devices[dev]
				all = all && ok && good(st) && st.Commit == s.commit && !d.controls[dev].Paused()
			}
			inSync[si.name] = all
		}
	}
	d.mu.Unlock()
	if err := d.orders.Follow(ctx, orders.Progress{Head: s.head, Commit: s.commit, Applied: applied, Failed: failed, InSync: inSync}); err != nil {
		s.log.Warn("orders: follow", "err", err)
	}
}
