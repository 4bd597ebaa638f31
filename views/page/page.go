package page

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netrecon/netrecon/api"
)

// Source is what the page reads: the documents of the daemon's API, as the
// API answers them (persist ids masked).
type Source interface {
	StatusDoc() *api.Status
	DevicesDoc() api.DeviceList
	DeviceDoc(name string) (api.Device, bool)
	ServicesDoc() api.ServiceList
	ServiceDoc(name string) (api.Service, bool)
	TasksDoc() api.TaskList
	// OpenTasks is how many of TasksDoc's tasks are open, for the overview
	// (which every reader polls) at less than the list's cost.
	OpenTasks() int
	AlarmsDoc(ctx context.Context, past bool, before int64, limit int) (api.AlarmList, error)
	RunsDoc(ctx context.Context, before int64, limit int) (api.RunList, error)
	RunDoc(ctx context.Context, id int64) (api.Run, bool, error)
}

//go:embed templates/*.html
var templates embed.FS

//go:embed static/*
var static embed.FS

// ContentSecurityPolicy is sent with every page: no script or style but the
// page's own files, no inline script, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// pageNames are the templates, one per page; each is parsed with layout.html.
var pageNames = []string{"overview", "devices", "device", "services", "service", "alarms", "runs", "run", "tasks", "refused"}

// Templates are the page's parsed templates and files.
type Templates struct {
	tmpl  map[string]*template.Template
	files http.Handler
}

// Pages serves the status page of one Source.
type Pages struct {
	*Templates
	src      Source
	mux      *http.ServeMux
	patterns []string

	// overviewMu guards the overview last rendered and the status document
	// it was rendered from: the document changes only when the status does,
	// so any number of readers between two changes cost one rendering.
	overviewMu   sync.Mutex
	overviewOf   *api.Status
	overviewOpen int
	overviewHTML []byte
}

// Parse parses the page's templates (embedded: an error is a bug of this
// package, which its tests catch).
func Parse() (*Templates, error) {
	p := &Templates{tmpl: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(helpers()).ParseFS(templates, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("page: template %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("page: static files: %w", err)
	}
	p.files = http.StripPrefix("/static/", http.FileServerFS(sub))
	return p, nil
}

// Serve is the status page of src.
func (t *Templates) Serve(src Source) *Pages {
	p := &Pages{Templates: t, src: src, mux: http.NewServeMux()}
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /{$}", p.overview},
		{"GET /devices", p.devices},
		{"GET /devices/{name}", p.device},
		{"GET /services", p.services},
		{"GET /services/{name}", p.service},
		{"GET /tasks", p.tasks},
		{"GET /alarms", p.alarms},
		{"GET /runs", p.runs},
		{"GET /runs/{id}", p.run},
		{"GET /static/", p.static},
	} {
		p.mux.Handle(r.pattern, r.h)
		p.patterns = append(p.patterns, r.pattern)
	}
	return p
}

// Patterns are the paths the page answers, for the daemon's mux.
func (p *Pages) Patterns() []string { return p.patterns }

func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	p.mux.ServeHTTP(w, r)
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// Refuse answers a request the daemon did not let through (401: no or a
// wrong token; 403: too small a scope) as a page that asks for a token:
// the script keeps it in sessionStorage and fetches the page again with it.
func (p *Pages) Refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	securityHeaders(w)
	if strings.HasPrefix(r.URL.Path, "/static/") {
		// The style sheet and the script hold nothing of the network: the
		// page that asks for a token needs them.
		p.files.ServeHTTP(w, r)
		return
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="netrecon"`)
	}
	p.refused(w, code, "Token needed", msg)
}

// refusal is the page of a refused or failed request.
type refusal struct {
	Title, Msg string
	Token      bool // a token would help
}

func (p *Pages) refused(w http.ResponseWriter, code int, title, msg string) {
	p.render(w, code, "refused", view{Title: title, Page: refusal{Title: title, Msg: msg,
		Token: code == http.StatusUnauthorized || code == http.StatusForbidden}})
}

// view is what every template gets: the page's title, the navigation item
// it belongs to, and its document.
type view struct {
	Title string
	Nav   string
	Page  any
}

// render writes the page name whole, or a plain error: a template that
// fails halfway never sends half a page.
func (p *Pages) render(w http.ResponseWriter, code int, name string, v view) {
	b, err := p.execute(name, v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.write(w, code, b)
}

func (p *Pages) execute(name string, v view) ([]byte, error) {
	var b bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&b, "layout", v); err != nil {
		return nil, fmt.Errorf("internal error: rendering the page %s: %w", name, err)
	}
	return b.Bytes(), nil
}

func (p *Pages) write(w http.ResponseWriter, code int, page []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(page)
}

func (p *Pages) notFound(w http.ResponseWriter, msg string) {
	p.refused(w, http.StatusNotFound, "Not found", msg)
}

func (p *Pages) failed(w http.ResponseWriter, err error) {
	p.refused(w, http.StatusInternalServerError, "Error", err.Error())
}

func (p *Pages) static(w http.ResponseWriter, r *http.Request) {
	// The files change only with the binary; a day's caching spares every
	// poll's page load.
	w.Header().Set("Cache-Control", "max-age=86400")
	p.files.ServeHTTP(w, r)
}

// overviewPage is the overview's document and what it derives for show.
type overviewPage struct {
	*api.Status
	// Unacked are the active alarms nobody acknowledged yet; Acked counts
	// the others (in hand, listed on the alarms page).
	Unacked []api.Alarm
	Acked   int
	// Attention are the devices not in sync or applied.
	Attention []api.Device
	States    []string
	// OpenTasks counts the manual steps nobody marked done yet.
	OpenTasks int
}

func (p *Pages) overview(w http.ResponseWriter, r *http.Request) {
	st := p.src.StatusDoc()
	open := p.src.OpenTasks()
	p.overviewMu.Lock()
	defer p.overviewMu.Unlock()
	// The status document does not carry the tasks: a step marked done
	// changes the count without a new status, so the count is the key too.
	if p.overviewOf != st || p.overviewOpen != open {
		b, err := p.execute("overview", overviewView(st, open))
		if err != nil {
			p.failed(w, err)
			return
		}
		p.overviewOf, p.overviewOpen, p.overviewHTML = st, open, b
	}
	p.write(w, http.StatusOK, p.overviewHTML)
}

func overviewView(st *api.Status, open int) view {
	v := overviewPage{Status: st, States: api.States, OpenTasks: open}
	for _, a := range st.Alarms {
		if a.Acknowledged == nil {
			v.Unacked = append(v.Unacked, a)
		} else {
			v.Acked++
		}
	}
	for _, d := range st.Devices {
		if d.State != api.StateInSync && d.State != api.StateApplied {
			v.Attention = append(v.Attention, d)
		}
	}
	return view{Title: "Overview", Nav: "overview", Page: v}
}

func (p *Pages) devices(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "devices", view{Title: "Devices", Nav: "devices", Page: p.src.DevicesDoc()})
}

func (p *Pages) device(w http.ResponseWriter, r *http.Request) {
	d, ok := p.src.DeviceDoc(r.PathValue("name"))
	if !ok {
		p.notFound(w, "no device "+r.PathValue("name")+" in the inventory")
		return
	}
	p.render(w, http.StatusOK, "device", view{Title: d.Name, Nav: "devices", Page: d})
}

func (p *Pages) services(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "services", view{Title: "Services", Nav: "services", Page: p.src.ServicesDoc()})
}

func (p *Pages) service(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s, ok := p.src.ServiceDoc(name)
	tasks := tasksOf(p.src.TasksDoc(), name)
	if !ok && len(tasks) == 0 {
		p.notFound(w, "no service "+name+" in the intent")
		return
	}
	// A new service held by its open steps is planned as absent, so the
	// services document has none yet: its page is its steps (the link
	// from /tasks must not end in "not found").
	p.render(w, http.StatusOK, "service", view{Title: name, Nav: "services",
		Page: servicePage{Service: s, Name: name, Tasks: tasks, Held: !ok}})
}

// servicePage is a service and its manual steps; Held when the services
// document lacks it because its steps hold it back.
type servicePage struct {
	api.Service
	Name  string
	Tasks []api.Task
	Held  bool
}

func tasksOf(l api.TaskList, service string) []api.Task {
	var out []api.Task
	for _, t := range l.Tasks {
		if t.Service == service {
			out = append(out, t)
		}
	}
	return out
}

func (p *Pages) tasks(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "tasks", view{Title: "Manual steps", Nav: "tasks", Page: p.src.TasksDoc()})
}

// alarmsPage is the alarms page: the active ones and a page of past ones.
type alarmsPage struct {
	Active, Past api.AlarmList
}

func (p *Pages) alarms(w http.ResponseWriter, r *http.Request) {
	before, limit, err := paging(r)
	if err != nil {
		p.refused(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	active, err := p.src.AlarmsDoc(r.Context(), false, 0, 0)
	if err != nil {
		p.failed(w, err)
		return
	}
	past, err := p.src.AlarmsDoc(r.Context(), true, before, limit)
	if err != nil {
		p.failed(w, err)
		return
	}
	p.render(w, http.StatusOK, "alarms", view{Title: "Alarms", Nav: "alarms", Page: alarmsPage{Active: active, Past: past}})
}

func (p *Pages) runs(w http.ResponseWriter, r *http.Request) {
	before, limit, err := paging(r)
	if err != nil {
		p.refused(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	runs, err := p.src.RunsDoc(r.Context(), before, limit)
	if err != nil {
		p.failed(w, err)
		return
	}
	p.render(w, http.StatusOK, "runs", view{Title: "Runs", Nav: "runs", Page: runs})
}

func (p *Pages) run(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.notFound(w, "no such run: runs are numbers")
		return
	}
	run, ok, err := p.src.RunDoc(r.Context(), id)
	switch {
	case err != nil:
		p.failed(w, err)
	case !ok:
		p.notFound(w, "no such run")
	default:
		p.render(w, http.StatusOK, "run", view{Title: "Run " + strconv.FormatInt(run.ID, 10), Nav: "runs", Page: run})
	}
}

// paging reads ?before= and ?limit= (1 to 500, default 50), as the API does.
func paging(r *http.Request) (before int64, limit int, err error) {
	limit = 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return 0, 0, fmt.Errorf("limit %q: want 1 to 500", s)
		}
		limit = n
	}
	if s := r.URL.Query().Get("before"); s != "" {
		before, err = strconv.ParseInt(s, 10, 64)
		if err != nil || before < 1 {
			return 0, 0, fmt.Errorf("before %q: want the id an \"older\" link gave", s)
		}
	}
	return before, limit, nil
}

// helpers are the templates' functions: formatting only.
func helpers() template.FuncMap {
	return template.FuncMap{
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12]
			}
			return s
		},
		// when is a time for people, UTC, to the second.
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return "-"
				}
				return v.UTC().Format("2006-01-02 15:04:05Z")
			case *time.Time:
				if v == nil || v.IsZero() {
					return "-"
				}
				return v.UTC().Format("2006-01-02 15:04:05Z")
			}
			return "-"
		},
		"iso": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				return v.UTC().Format(time.RFC3339)
			case *time.Time:
				if v != nil {
					return v.UTC().Format(time.RFC3339)
				}
			}
			return ""
		},
		// local is a time in the zone it was written in, to the minute:
		// an activation reads as its intent wrote it.
		"local":   func(t time.Time) string { return t.Format("2006-01-02 15:04 -07:00") },
		"age":     age,
		"bytes":   humanBytes,
		"seconds": func(s float64) string { return strconv.FormatFloat(s, 'f', 2, 64) + " s" },
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"count": func(m map[string]int, k string) int { return m[k] },
		"join":  strings.Join,
		"act": func(name, label, field string, value any, id string) actionForm {
			return actionForm{Name: name, Label: label, Field: field, Value: fmt.Sprint(value), ID: id}
		},
	}
}

// age is a duration in seconds for people: its two largest units.
func age(s float64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d d %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// humanBytes is an octet count in binary units, three significant digits;
// the exact count goes alongside in the page.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	prec := 0
	if v < 10 {
		prec = 2
	} else if v < 100 {
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}[i]
}

// actionForm is one operator action's form: the action, its button's
// label, the request field that names its target and the element id.
type actionForm struct {
	Name, Label, Field, Value, ID string
}
