package schema

// APIVersion is the apiVersion every intent document carries.
const APIVersion = "netrecon.io/v1"

// Built-in service kinds, with schemas embedded in the binary.
const (
	KindAttachmentCircuit = "attachment-circuit"
	KindStaticRouting     = "static-routing"
)

// Platforms netrecon renders for.
const (
	PlatformIETF  = "ietf"
	PlatformJunos = "junos"
)

// Intent is a valid intent repo: what the network should be.
type Intent struct {
	Devices  []*Device  // sorted by Name
	Services []*Service // sorted by Name
	// Types holds every service type the repo may use: the built-in ones and the
	// repo's own, by kind.
	Types map[string]*ServiceType
}

// Device returns the device called name, or nil.
func (in *Intent) Device(name string) *Device {
	for _, d := range in.Devices {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Device is a router netrecon may configure.
type Device struct {
	Name        string            `json:"name"`
	Platform    string            `json:"platform"`
	Address     string            `json:"address"`
	Port        int               `json:"port"`
	Site        string            `json:"site,omitempty"`
	Role        string            `json:"role,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Credentials Credentials       `json:"credentials"`
	Maintenance bool              `json:"maintenance,omitempty"`
	Pos         Pos               `json:"-"` // where the device's entry starts
}

// Credentials are references to a secret, never the secret itself.
type Credentials struct {
	Username     string `json:"username"`
	PasswordEnv  string `json:"passwordEnv,omitempty"`
	PasswordFile string `json:"passwordFile,omitempty"`
	KeyFile      string `json:"keyFile,omitempty"`
}

// Service is one service instance: a document under services/.
type Service struct {
	APIVersion string
	Kind       string
	Name       string // unique; the owner ID of the config it renders
	Customer   string
	Labels     map[string]string
	// Spec is the spec as plain data (map[string]any, []any, string, int64,
	// float64, bool) with the schema's defaults filled in.
	Spec map[string]any
	// Devices are the devices the spec names (spec.device or spec.devices).
	Devices []string
	Pos     Pos // the document's start; Pos.File is the repo-relative path
	// Fields maps a field path ("spec.vlan") to its position, for diagnostics
	// raised after loading (cross-document checks, render).
	Fields map[string]Pos
}

// FieldPos returns the position of a field of the document, falling back to the
// document's start.
func (s *Service) FieldPos(field string) Pos {
	if p, ok := s.Fields[field]; ok {
		return p
	}
	return s.Pos
}

// ServiceType is a kind of service: its schema and its templates per platform.
type ServiceType struct {
	Kind    string
	BuiltIn bool
	Dir     string // repo-relative folder for user-defined types; "" for built-in
	Schema  string // CUE source defining #Spec
	// Shape is #Spec's form (its fields, for the templates); set by Load,
	// nil for a type that did not evaluate.
	Shape    *Shape
	Template map[string]Template // by platform
	// Lists are list entries (element path → key leaf names) the templates create
	// beyond the platform's built-in key table.
	Lists map[string][]string
	// Description is type.yaml's description, for documentation and tools.
	Description string
}

// Template is a platform's template of a service type.
type Template struct {
	Name   string // a file name used in positions, e.g. "service-types/transit/junos.xml.tmpl"
	Source string
}
