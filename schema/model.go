package schema

// APIVersion is the apiVersion every intent document carries.
const APIVersion = "netrecon.io/v1"

// Built-in service kinds, with schemas embedded in the binary.
const (
	KindAttachmentCircuit = "attachment-circuit"
	KindStaticRouting     = "static-routing"
	KindBGPCustomer       = "bgp-customer"
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
	// PrefixLists are the generated prefix lists (generated/irr/), by IRR
	// object name in upper case; see Intent.PrefixList.
	PrefixLists map[string]*PrefixList
	// IRR is irr/settings.yaml; nil when the repo has none.
	IRR *IRRSettings
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
	// Activate and Deactivate are metadata.activate and metadata.deactivate
	// as written ("" when absent); Window parses them.
	Activate, Deactivate string
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
	// Addresses says where the spec holds addresses, for the address-plan
	// checks: the built-in kinds' are fixed, a user type's come from its
	// type.yaml. Zero: the kind takes part in none of them.
	Addresses Addresses
	// ManualSteps are type.yaml's manual_steps: what a person must do before
	// an instance is configured. Built-in kinds declare none.
	ManualSteps []ManualStep
}

// ManualStep is a step only a person can do for each instance of a type.
type ManualStep struct {
	ID, Title, Instructions string
	// Data are the values to show, by name (sorted): each a template over
	// the instance, rendered by render.Steps.
	Data []StepField
	Pos  Pos // the step's entry in type.yaml
}

// StepField is one value of a manual step: its name and its template.
type StepField struct {
	Name, Template string
	Pos            Pos
}

// Addresses says where a service type's spec holds addresses, so that the
// address-plan checks (docs/intent-format.md) cover user-defined types as
// they cover the built-in ones. Every entry is a field path of the spec: keys
// joined by dots, with "[]" after a key that holds a list, for each of its
// elements ("routes[].prefix").
type Addresses struct {
	// VRF names the field holding the service's VRF; absent (or the field
	// absent in a document) means the global table.
	VRF string
	// Links are fields holding the PE's address on a customer link, with the
	// link's prefix length: 192.0.2.1/30.
	Links []string
	// Neighbors are fields holding the customer router's address on one of
	// the service's links.
	Neighbors []string
	// Routes are prefixes the service routes towards a next hop.
	Routes []RouteFields
}

// RouteFields are the fields of a route: its prefix, and its next hop. When
// both lie in one list ("routes[].prefix", "routes[].nextHop") each element
// pairs its own; a next hop outside the list ("peer") is every prefix's.
type RouteFields struct {
	Prefix  string
	NextHop string
}

// IsZero reports whether a declares no address at all.
func (a Addresses) IsZero() bool {
	return a.VRF == "" && len(a.Links) == 0 && len(a.Neighbors) == 0 && len(a.Routes) == 0
}

// Template is a platform's template of a service type.
type Template struct {
	Name   string // a file name used in positions, e.g. "service-types/transit/junos.xml.tmpl"
	Source string
}
