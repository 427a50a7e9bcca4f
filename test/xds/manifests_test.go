package xds

// Loading synthesized manifests and reading what they intend (allow-lists, identities, ports, SNI) from them.
// Nothing here knows how the library builds its objects: the expectations of every property check are read from
// the ServiceEntry, AuthorizationPolicy, Gateway, DestinationRule and EnvoyFilter objects themselves.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Object is one Kubernetes object as parsed from YAML.
type Object map[string]any

func (o Object) Kind() string       { return str(o["kind"]) }
func (o Object) APIVersion() string { return str(o["apiVersion"]) }
func (o Object) Name() string       { return str(path(o, "metadata", "name")) }
func (o Object) Namespace() string  { return str(path(o, "metadata", "namespace")) }
func (o Object) Labels() map[string]string {
	return strMap(path(o, "metadata", "labels"))
}
func (o Object) Spec() map[string]any { m, _ := o["spec"].(map[string]any); return m }
func (o Object) String() string       { return fmt.Sprintf("%s %s/%s", o.Kind(), o.Namespace(), o.Name()) }

// isIstio: an Istio or Gateway API CR (fed to istiod's config store), as opposed to a core Kubernetes object.
func (o Object) isIstio() bool {
	g := strings.SplitN(o.APIVersion(), "/", 2)[0]
	return strings.HasSuffix(g, ".istio.io") || g == "gateway.networking.k8s.io"
}

// deepCopy through YAML, so mutation tests can change a copy.
func (o Object) deepCopy() Object {
	b, err := yaml.Marshal(o)
	if err != nil {
		panic(err)
	}
	var c Object
	if err := yaml.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return c
}

func path(v any, keys ...string) any {
	if o, ok := v.(Object); ok {
		v = map[string]any(o)
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return fmt.Sprintf("%d", int64(x))
	default:
		return fmt.Sprint(x)
	}
}

func num(v any) uint32 {
	switch x := v.(type) {
	case float64:
		return uint32(x)
	case int:
		return uint32(x)
	case int64:
		return uint32(x)
	}
	return 0
}

func list(v any) []any { l, _ := v.([]any); return l }

func strList(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}

func strMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k] = str(x)
	}
	return out
}

// parseYAML splits a multi-document YAML file into objects.
func parseYAML(data []byte) ([]Object, error) {
	var out []Object
	for _, doc := range bytes.Split(append([]byte("\n"), data...), []byte("\n---")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var o Object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, err
		}
		if o != nil {
			out = append(out, o)
		}
	}
	return out, nil
}

// loadYAMLDir reads every *.yaml file of dir (not recursive), sorted by name.
func loadYAMLDir(dir string) ([]Object, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml files in %s", dir)
	}
	sort.Strings(files)
	var out []Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := parseYAML(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// manifestRoot is the directory the synthesized manifests are read from: XDS_MANIFESTS, by default the repository's
// examples/ (examples/<name>/dist/*.yaml, written by `npx projen synth-examples`) beside the scenario apps
// (xds-scenarios/<name>/*.yaml, written by scripts/synth-xds-scenarios.ts).
func manifestRoot() string {
	if d := os.Getenv("XDS_MANIFESTS"); d != "" {
		return d
	}
	return filepath.Join("..", "..")
}

// exampleNames lists examples/<name>/dist under the manifest root.
func exampleNames() ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(manifestRoot(), "examples", "*", "dist"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no synthesized examples under %s/examples/*/dist: run `npx projen synth-examples` (or set XDS_MANIFESTS)", manifestRoot())
	}
	return names, nil
}

func loadExample(name string) ([]Object, error) {
	return loadYAMLDir(filepath.Join(manifestRoot(), "examples", name, "dist"))
}

// synthRefusal: the scenario app could not be synthesized because the library refused it (its message), e.g. a
// fix that rejects overlapping hosts at synth time. "" when it was synthesized.
func synthRefusal(scenario string) string {
	b, err := os.ReadFile(filepath.Join(manifestRoot(), "xds-scenarios", scenario, "SYNTH_ERROR"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func loadScenarioApp(name string) ([]Object, error) {
	return loadYAMLDir(filepath.Join(manifestRoot(), "xds-scenarios", name))
}

func loadFixture(name string) ([]Object, error) {
	data, err := os.ReadFile(filepath.Join("fixtures", name))
	if err != nil {
		return nil, err
	}
	return parseYAML(data)
}

func find(objs []Object, kind, namespace, name string) Object {
	for _, o := range objs {
		if o.Kind() == kind && o.Namespace() == namespace && o.Name() == name {
			return o
		}
	}
	return nil
}

func ofKind(objs []Object, kinds ...string) []Object {
	var out []Object
	for _, o := range objs {
		for _, k := range kinds {
			if o.Kind() == k {
				out = append(out, o)
			}
		}
	}
	return out
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// ---- intent read from the manifests ----------------------------------------------------------------------------

// Source is one `from.source` of an AuthorizationPolicy rule.
type Source struct {
	Principals []string
	Namespaces []string
}

// admits: whether an identity spiffe://<td>/ns/<ns>/sa/<sa> matches the source, with Istio's AuthorizationPolicy
// semantics (exact, "*", prefix "x*" and suffix "*x" for principals and namespaces; all set fields must match).
func (s Source) admits(id Identity) bool {
	match := func(values []string, v string) bool {
		for _, p := range values {
			switch {
			case p == "*" || p == v:
				return true
			case strings.HasSuffix(p, "*") && strings.HasPrefix(v, strings.TrimSuffix(p, "*")):
				return true
			case strings.HasPrefix(p, "*") && strings.HasSuffix(v, strings.TrimPrefix(p, "*")):
				return true
			}
		}
		return false
	}
	if len(s.Principals) > 0 && !match(s.Principals, id.Principal()) {
		return false
	}
	if len(s.Namespaces) > 0 && !match(s.Namespaces, id.Namespace) {
		return false
	}
	return len(s.Principals) > 0 || len(s.Namespaces) > 0
}

// Identity is a workload's mTLS identity.
type Identity struct{ Namespace, ServiceAccount string }

func (i Identity) Principal() string {
	return "cluster.local/ns/" + i.Namespace + "/sa/" + i.ServiceAccount
}
func (i Identity) SPIFFE() string { return "spiffe://" + i.Principal() }
func (i Identity) String() string { return i.Namespace + "/" + i.ServiceAccount }

// sampleIdentities: identities the sources name (a namespace source gets an invented service account).
func sampleIdentities(sources []Source) []Identity {
	var out []Identity
	for _, s := range sources {
		for _, p := range s.Principals {
			parts := strings.Split(p, "/")
			if len(parts) == 5 && parts[1] == "ns" && parts[3] == "sa" && !strings.Contains(p, "*") {
				out = append(out, Identity{parts[2], parts[4]})
			}
		}
		for _, n := range s.Namespaces {
			if n != "*" && !strings.Contains(n, "*") {
				out = append(out, Identity{n, "any-workload"})
			}
		}
	}
	return out
}

func policySources(ap Object) []Source {
	var out []Source
	for _, r := range list(path(ap, "spec", "rules")) {
		for _, f := range list(path(r, "from")) {
			out = append(out, Source{Principals: strList(path(f, "source", "principals")), Namespaces: strList(path(f, "source", "namespaces"))})
		}
	}
	return out
}

// WildcardIntent: one WildcardEgressGateway's objects (found by its EnvoyFilter that adds an internal SNI listener)
// and what they say.
type WildcardIntent struct {
	Name, Namespace string
	EnvoyFilter     Object
	Gateway         Object   // the networking.istio.io Gateway of its server
	AllowList       []string // ServiceEntry hosts
	ExternalPorts   []uint32 // ServiceEntry ports
	GatewayHost     string   // the SNI of its own Gateway server (server hosts, without "./")
	GatewayPorts    []uint32 // Gateway server port numbers
	PodPorts        []uint32 // the pod ports those map to (Service targetPort)
	GatewaySelector map[string]string
	Sources         []Source // AuthorizationPolicy rules
	ExportTo        []string // mesh VirtualService exportTo
	Subset          string   // the client subset the mesh VirtualService routes to
	SubsetSNI       string   // the SNI the subset presents (DestinationRule)
	GatewaySA       string   // the gateway pods' service account
	PolicySNI       []string // the AuthorizationPolicy's connection.sni values
	// What the EnvoyFilter adds (read from its patches)
	AddedClusters    []string
	AddedListeners   []string
	ForwarderCluster string // the cluster the MERGE points the gateway's tcp_proxy at
	Merges           int
}

func readWildcards(objs []Object) ([]*WildcardIntent, error) {
	var out []*WildcardIntent
	for _, ef := range ofKind(objs, "EnvoyFilter") {
		isForwarder := false
		for _, p := range list(path(ef, "spec", "configPatches")) {
			if str(path(p, "applyTo")) == "LISTENER" && path(p, "patch", "value", "internal_listener") != nil {
				isForwarder = true
			}
		}
		if !isForwarder {
			continue
		}
		w := &WildcardIntent{Namespace: ef.Namespace(), EnvoyFilter: ef, Name: ef.Labels()["app.kubernetes.io/part-of"]}
		w.GatewaySelector = strMap(path(ef, "spec", "workloadSelector", "labels"))
		for _, p := range list(path(ef, "spec", "configPatches")) {
			v := path(p, "patch", "value")
			switch str(path(p, "applyTo")) + "/" + str(path(p, "patch", "operation")) {
			case "CLUSTER/ADD":
				w.AddedClusters = append(w.AddedClusters, str(path(v, "name")))
			case "LISTENER/ADD":
				w.AddedListeners = append(w.AddedListeners, str(path(v, "name")))
			case "NETWORK_FILTER/MERGE":
				w.Merges++
				if c := str(path(v, "typed_config", "cluster")); c != "" {
					w.ForwarderCluster = c
				}
			}
		}
		w.Gateway = find(objs, "Gateway", w.Namespace, w.Name)
		se := find(objs, "ServiceEntry", w.Namespace, w.Name)
		vs := find(objs, "VirtualService", w.Namespace, w.Name)
		ap := find(objs, "AuthorizationPolicy", w.Namespace, w.Name)
		if w.Gateway == nil || se == nil || vs == nil || ap == nil {
			return nil, fmt.Errorf("EnvoyFilter %s/%s: its Gateway, ServiceEntry, VirtualService or AuthorizationPolicy %q is missing", w.Namespace, ef.Name(), w.Name)
		}
		w.AllowList = strList(path(se, "spec", "hosts"))
		for _, p := range list(path(se, "spec", "ports")) {
			w.ExternalPorts = append(w.ExternalPorts, num(path(p, "number")))
		}
		for _, s := range list(path(w.Gateway, "spec", "servers")) {
			for _, h := range strList(path(s, "hosts")) {
				w.GatewayHost = h[strings.Index(h, "/")+1:]
			}
			w.GatewayPorts = append(w.GatewayPorts, num(path(s, "port", "number")))
		}
		w.Sources = policySources(ap)
		for _, r := range list(path(ap, "spec", "rules")) {
			for _, c := range list(path(r, "when")) {
				if str(path(c, "key")) == "connection.sni" {
					w.PolicySNI = append(w.PolicySNI, strList(path(c, "values"))...)
				}
			}
		}
		w.ExportTo = strList(path(vs, "spec", "exportTo"))
		for _, t := range list(path(vs, "spec", "tls")) {
			for _, r := range list(path(t, "route")) {
				w.Subset = str(path(r, "destination", "subset"))
			}
		}
		svc, deploy := gatewayWorkload(objs, strMap(path(w.Gateway, "spec", "selector")))
		if svc == nil || deploy == nil {
			return nil, fmt.Errorf("Gateway %s/%s: no Service and Deployment in the manifests select its pods", w.Namespace, w.Name)
		}
		w.GatewaySA = str(path(deploy, "spec", "template", "spec", "serviceAccountName"))
		for _, gp := range w.GatewayPorts {
			w.PodPorts = append(w.PodPorts, targetPort(svc, gp))
		}
		for _, dr := range ofKind(objs, "DestinationRule") {
			if str(path(dr, "spec", "host")) != w.GatewayHost {
				continue
			}
			for _, s := range list(path(dr, "spec", "subsets")) {
				if str(path(s, "name")) == w.Subset {
					for _, pl := range list(path(s, "trafficPolicy", "portLevelSettings")) {
						w.SubsetSNI = str(path(pl, "tls", "sni"))
					}
				}
			}
		}
		out = append(out, w)
	}
	return out, nil
}

// gatewayWorkload: the Service and Deployment whose pods the selector picks.
func gatewayWorkload(objs []Object, selector map[string]string) (Object, Object) {
	var svc, deploy Object
	for _, d := range ofKind(objs, "Deployment") {
		if selects(selector, strMap(path(d, "spec", "template", "metadata", "labels"))) {
			deploy = d
		}
	}
	if deploy == nil {
		return nil, nil
	}
	podLabels := strMap(path(deploy, "spec", "template", "metadata", "labels"))
	for _, s := range ofKind(objs, "Service") {
		if s.Namespace() == deploy.Namespace() && selects(strMap(path(s, "spec", "selector")), podLabels) {
			svc = s
		}
	}
	return svc, deploy
}

func targetPort(svc Object, port uint32) uint32 {
	for _, p := range list(path(svc, "spec", "ports")) {
		if num(path(p, "port")) == port {
			if t := num(path(p, "targetPort")); t != 0 {
				return t
			}
			return port
		}
	}
	return 0
}

// OriginationIntent: one TlsOriginationEgress (a Gateway with an HTTPS ISTIO_MUTUAL server, the VirtualService bound
// to it and the mesh, the DestinationRule that originates TLS).
type OriginationIntent struct {
	Name, Namespace string
	Hosts           []string // the Gateway server's hosts (the origination hosts)
	ServerPorts     []uint32
	PodPorts        []uint32
	GatewayHost     string // the gateway Service FQDN
	GatewaySA       string
	Sources         []Source
	Routes          []OriginationRoute
	Selector        map[string]string
}

// OriginationRoute: one host's mesh and gateway routes and its origination settings.
type OriginationRoute struct {
	Host              string
	MeshPort          uint32
	Subset, SubsetSNI string
	UpstreamPort      uint32
	RemovedHeaders    []string
	OriginationSNI    string
	OriginationSANs   []string
}

func readOriginations(objs []Object) ([]*OriginationIntent, error) {
	var out []*OriginationIntent
	for _, gw := range ofKind(objs, "Gateway") {
		if !strings.HasPrefix(gw.APIVersion(), "networking.istio.io") {
			continue
		}
		var o *OriginationIntent
		for _, s := range list(path(gw, "spec", "servers")) {
			if str(path(s, "port", "protocol")) == "HTTPS" && str(path(s, "tls", "mode")) == "ISTIO_MUTUAL" {
				if o == nil {
					o = &OriginationIntent{Name: gw.Name(), Namespace: gw.Namespace(), Selector: strMap(path(gw, "spec", "selector"))}
				}
				for _, h := range strList(path(s, "hosts")) {
					o.Hosts = append(o.Hosts, h[strings.Index(h, "/")+1:])
				}
				o.ServerPorts = append(o.ServerPorts, num(path(s, "port", "number")))
			}
		}
		if o == nil || gw.Labels()["app.kubernetes.io/managed-by"] != "cdk8s-istio-egress" {
			continue
		}
		svc, deploy := gatewayWorkload(objs, o.Selector)
		if svc == nil {
			return nil, fmt.Errorf("Gateway %s/%s selects no Service/Deployment of the manifests", o.Namespace, o.Name)
		}
		o.GatewayHost = svc.Name() + "." + svc.Namespace() + ".svc.cluster.local"
		o.GatewaySA = str(path(deploy, "spec", "template", "spec", "serviceAccountName"))
		for _, p := range o.ServerPorts {
			o.PodPorts = append(o.PodPorts, targetPort(svc, p))
		}
		if ap := find(objs, "AuthorizationPolicy", o.Namespace, o.Name); ap != nil {
			o.Sources = policySources(ap)
		}
		gwRef := o.Namespace + "/" + o.Name
		for _, vs := range ofKind(objs, "VirtualService") {
			if !contains(strList(path(vs, "spec", "gateways")), gwRef) {
				continue
			}
			for _, h := range strList(path(vs, "spec", "hosts")) {
				r := OriginationRoute{Host: h}
				for _, hr := range list(path(vs, "spec", "http")) {
					for _, m := range list(path(hr, "match")) {
						gws := strList(path(m, "gateways"))
						dest := path(list(path(hr, "route"))[0], "destination")
						if contains(gws, "mesh") {
							r.MeshPort = num(path(m, "port"))
							r.Subset = str(path(dest, "subset"))
						}
						if contains(gws, gwRef) {
							r.UpstreamPort = num(path(dest, "port", "number"))
							r.RemovedHeaders = strList(path(hr, "headers", "request", "remove"))
						}
					}
				}
				for _, dr := range ofKind(objs, "DestinationRule") {
					if str(path(dr, "spec", "host")) == h {
						for _, pl := range list(path(dr, "spec", "trafficPolicy", "portLevelSettings")) {
							if num(path(pl, "port", "number")) == r.UpstreamPort {
								r.OriginationSNI = str(path(pl, "tls", "sni"))
								r.OriginationSANs = strList(path(pl, "tls", "subjectAltNames"))
							}
						}
					}
					if str(path(dr, "spec", "host")) == o.GatewayHost {
						for _, s := range list(path(dr, "spec", "subsets")) {
							if str(path(s, "name")) == r.Subset {
								for _, pl := range list(path(s, "trafficPolicy", "portLevelSettings")) {
									r.SubsetSNI = str(path(pl, "tls", "sni"))
								}
							}
						}
					}
				}
				o.Routes = append(o.Routes, r)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// WaypointIntent: an istio-waypoint Gateway and the ServiceEntries bound to it with their policies.
type WaypointIntent struct {
	Name, Namespace string
	Services        []*WaypointService
}

// WaypointService: one ServiceEntry at the waypoint.
type WaypointService struct {
	SE         Object
	Name       string
	Hosts      []string
	Resolution string
	Ports      []WaypointPort
	Policies   []WaypointPolicy
	TLS        map[string]OriginationTLS // host -> DestinationRule SIMPLE tls
}

type WaypointPort struct {
	Number, TargetPort uint32
	Protocol, Name     string
}

type OriginationTLS struct {
	SNI  string
	SANs []string
}

// WaypointPolicy: one ALLOW rule of an AuthorizationPolicy targeting the ServiceEntry.
type WaypointPolicy struct {
	Name     string
	Sources  []Source
	Methods  []string
	Paths    []string
	SNI      []string // when connection.sni
	NotSNI   []string
	NotHosts []string
	Ports    []string
}

func readWaypoints(objs []Object) []*WaypointIntent {
	var out []*WaypointIntent
	for _, gw := range ofKind(objs, "Gateway") {
		if !strings.HasPrefix(gw.APIVersion(), "gateway.networking.k8s.io") || str(path(gw, "spec", "gatewayClassName")) != "istio-waypoint" {
			continue
		}
		wp := &WaypointIntent{Name: gw.Name(), Namespace: gw.Namespace()}
		nsUses := map[string]bool{}
		for _, ns := range ofKind(objs, "Namespace") {
			if ns.Labels()["istio.io/use-waypoint"] == wp.Name && ns.Name() == wp.Namespace {
				nsUses[ns.Name()] = true
			}
		}
		for _, se := range ofKind(objs, "ServiceEntry") {
			use, ok := se.Labels()["istio.io/use-waypoint"]
			if !(ok && use == wp.Name && se.Namespace() == wp.Namespace) && !(!ok && nsUses[se.Namespace()]) {
				continue
			}
			s := &WaypointService{SE: se, Name: se.Name(), Hosts: strList(path(se, "spec", "hosts")), Resolution: str(path(se, "spec", "resolution")), TLS: map[string]OriginationTLS{}}
			for _, p := range list(path(se, "spec", "ports")) {
				wpPort := WaypointPort{Number: num(path(p, "number")), TargetPort: num(path(p, "targetPort")), Protocol: str(path(p, "protocol")), Name: str(path(p, "name"))}
				if wpPort.TargetPort == 0 {
					wpPort.TargetPort = wpPort.Number
				}
				s.Ports = append(s.Ports, wpPort)
			}
			for _, ap := range ofKind(objs, "AuthorizationPolicy") {
				if ap.Namespace() != se.Namespace() || str(path(ap, "spec", "action")) != "ALLOW" && str(path(ap, "spec", "action")) != "" {
					continue
				}
				targets := false
				for _, tr := range list(path(ap, "spec", "targetRefs")) {
					if str(path(tr, "kind")) == "ServiceEntry" && str(path(tr, "name")) == se.Name() {
						targets = true
					}
				}
				if !targets {
					continue
				}
				for _, r := range list(path(ap, "spec", "rules")) {
					pol := WaypointPolicy{Name: ap.Name()}
					for _, f := range list(path(r, "from")) {
						pol.Sources = append(pol.Sources, Source{Principals: strList(path(f, "source", "principals")), Namespaces: strList(path(f, "source", "namespaces"))})
					}
					for _, to := range list(path(r, "to")) {
						pol.Methods = append(pol.Methods, strList(path(to, "operation", "methods"))...)
						pol.Paths = append(pol.Paths, strList(path(to, "operation", "paths"))...)
						pol.NotHosts = append(pol.NotHosts, strList(path(to, "operation", "notHosts"))...)
						pol.Ports = append(pol.Ports, strList(path(to, "operation", "ports"))...)
					}
					for _, c := range list(path(r, "when")) {
						if str(path(c, "key")) == "connection.sni" {
							pol.SNI = append(pol.SNI, strList(path(c, "values"))...)
							pol.NotSNI = append(pol.NotSNI, strList(path(c, "notValues"))...)
						}
					}
					s.Policies = append(s.Policies, pol)
				}
			}
			for _, dr := range ofKind(objs, "DestinationRule") {
				h := str(path(dr, "spec", "host"))
				if dr.Namespace() == se.Namespace() && contains(s.Hosts, h) && str(path(dr, "spec", "trafficPolicy", "tls", "mode")) == "SIMPLE" {
					s.TLS[h] = OriginationTLS{SNI: str(path(dr, "spec", "trafficPolicy", "tls", "sni")), SANs: strList(path(dr, "spec", "trafficPolicy", "tls", "subjectAltNames"))}
				}
			}
			wp.Services = append(wp.Services, s)
		}
		out = append(out, wp)
	}
	return out
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// sniMatches: Envoy's server_names semantics (listener/filter_chain_match.proto): an exact name, or "*.suffix"
// matching any name that ends with ".suffix" (any number of labels; filter_chain_manager_impl.cc).
func sniMatches(serverName, sni string) bool {
	if strings.HasPrefix(serverName, "*.") {
		return strings.HasSuffix(sni, serverName[1:]) && len(sni) > len(serverName)-1
	}
	return serverName == sni
}

// samplesFor: names a client may send for an allow-list entry (a wildcard gets a one- and a two-label subdomain).
func samplesFor(host string) []string {
	if strings.HasPrefix(host, "*.") {
		return []string{"www" + host[1:], "a.b" + host[1:]}
	}
	return []string{host}
}

// offListSamples: names a client may try that no allow-list entry covers (read from the list: the bare domain of a
// wildcard, a look-alike with the suffix glued on, and an unrelated name).
func offListSamples(allow []string) []string {
	out := []string{"exfil.attacker.example"}
	for _, h := range allow {
		bare := strings.TrimPrefix(h, "*.")
		out = append(out, "evil"+bare, bare+".attacker.example")
		if strings.HasPrefix(h, "*.") {
			out = append(out, bare)
		}
	}
	var off []string
	for _, n := range out {
		covered := false
		for _, h := range allow {
			if sniMatches(h, n) {
				covered = true
			}
		}
		if !covered {
			off = append(off, n)
		}
	}
	return off
}

// ---- workloads the manifests select: Sidecar and NetworkPolicy selectors ---------------------------------------

// clientSelectors: per namespace, the label sets the manifests select client workloads by: every Sidecar's
// workloadSelector.labels and every NetworkPolicy's podSelector.matchLabels (non-empty ones; matchExpressions are
// not modelled and make no client), except those that select a Deployment of the manifests (gateways) or a waypoint's pods.
func clientSelectors(objs ...[]Object) map[string][]map[string]string {
	out := map[string][]map[string]string{}
	seen := map[string]bool{}
	for _, set := range objs {
		for _, o := range set {
			var l map[string]string
			switch o.Kind() {
			case "Sidecar":
				l = strMap(path(o, "spec", "workloadSelector", "labels"))
			case "NetworkPolicy":
				l = strMap(path(o, "spec", "podSelector", "matchLabels"))
			}
			if len(l) == 0 || o.Namespace() == "" || selectsDeployment(objs, o.Namespace(), l) {
				continue
			}
			k := o.Namespace() + "/" + labelString(l)
			if !seen[k] {
				seen[k] = true
				out[o.Namespace()] = append(out[o.Namespace()], l)
			}
		}
	}
	return out
}

// selectsDeployment: the selector picks the pods of a Deployment of the manifests or of a waypoint (e.g. a gateway's
// or waypoint's lockdown NetworkPolicy): those workloads are modelled already, as what they are, not as clients.
func selectsDeployment(objs [][]Object, namespace string, sel map[string]string) bool {
	for _, set := range objs {
		for _, d := range ofKind(set, "Deployment") {
			if d.Namespace() == namespace && selects(sel, strMap(path(d, "spec", "template", "metadata", "labels"))) {
				return true
			}
		}
		// Waypoint pods (created by Istio's deployment controller; newMesh gives them these labels).
		for _, gw := range ofKind(set, "Gateway") {
			if gw.Namespace() == namespace && str(path(gw, "spec", "gatewayClassName")) == "istio-waypoint" && selects(sel, waypointPodLabels(gw.Name())) {
				return true
			}
		}
	}
	return false
}

// waypointPodLabels: the labels of a waypoint's pods (as Istio's deployment controller sets them).
func waypointPodLabels(name string) map[string]string {
	return map[string]string{"gateway.networking.k8s.io/gateway-name": name, "gateway.istio.io/managed": "istio.io-mesh-controller", "istio.io/gateway-name": name}
}

// effectiveSidecar: the Sidecar istiod applies to a pod: one of its namespace whose workloadSelector selects the
// pod's labels, else its namespace's selector-less one, else the root namespace's (istio-system) selector-less one;
// nil when none (pilot/pkg/model/push_context.go getSidecarScope).
func effectiveSidecar(objs []Object, namespace string, labels map[string]string) Object {
	var nsWide, root Object
	for _, sc := range ofKind(objs, "Sidecar") {
		sel := strMap(path(sc, "spec", "workloadSelector", "labels"))
		switch {
		case sc.Namespace() == namespace && len(sel) > 0 && selects(sel, labels):
			return sc
		case sc.Namespace() == namespace && len(sel) == 0:
			nsWide = sc
		case sc.Namespace() == "istio-system" && len(sel) == 0:
			root = sc
		}
	}
	if nsWide != nil {
		return nsWide
	}
	return root
}

// hostsOverlap: Istio's host.Name.Matches (either may be a "*." wildcard or "*").
func hostsOverlap(a, b string) bool {
	if a == "*" || b == "*" || a == b {
		return true
	}
	return sniMatches(a, b) || sniMatches(b, a) || (strings.HasPrefix(a, "*.") && strings.HasPrefix(b, "*.") && (strings.HasSuffix(a, b[1:]) || strings.HasSuffix(b, a[1:])))
}

// sidecarImports: whether a Sidecar's egress listeners import a host of configNamespace for a client of
// clientNamespace (egress.hosts "ns/dnsName": ns "*", "." = the Sidecar's own namespace, "~" none; dnsName "*", a
// "*." wildcard or a name). No Sidecar (or no egress) imports everything.
func sidecarImports(sc Object, configNamespace, clientNamespace, host string) bool {
	egress := list(path(sc, "spec", "egress"))
	if sc == nil || len(egress) == 0 {
		return true
	}
	for _, e := range egress {
		for _, h := range strList(path(e, "hosts")) {
			parts := strings.SplitN(h, "/", 2)
			if len(parts) != 2 {
				continue
			}
			ns, dns := parts[0], parts[1]
			nsOK := ns == "*" || ns == configNamespace || (ns == "." && configNamespace == clientNamespace)
			if nsOK && hostsOverlap(dns, host) {
				return true
			}
		}
	}
	return false
}

// ---- AuthorizationPolicy semantics (expected outcome, from the policies themselves) ---------------------------

// workloadPolicies: the AuthorizationPolicies that apply to a workload: those of its namespace whose selector
// selects its labels or that have no selector and no targetRefs, and the root namespace's (istio-system) without
// selector.
func workloadPolicies(objs []Object, namespace string, labels map[string]string) []Object {
	var out []Object
	for _, ap := range ofKind(objs, "AuthorizationPolicy") {
		sel := strMap(path(ap, "spec", "selector", "matchLabels"))
		targeted := len(list(path(ap, "spec", "targetRefs"))) > 0 || path(ap, "spec", "targetRef") != nil
		if targeted {
			continue
		}
		if (ap.Namespace() == namespace && (len(sel) == 0 || selects(sel, labels))) || (ap.Namespace() == "istio-system" && len(sel) == 0) {
			out = append(out, ap)
		}
	}
	return out
}

// istioMatch: Istio's string match for AuthorizationPolicy values: "*" (non-empty), prefix "x*", suffix "*x", exact.
func istioMatch(pattern, v string) bool {
	switch {
	case pattern == "*":
		return v != ""
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(v, strings.TrimSuffix(pattern, "*"))
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(v, strings.TrimPrefix(pattern, "*"))
	}
	return pattern == v
}

// field: values must match (if set), notValues must not.
func field(o any, key, notKey, v string, fold bool) bool {
	m := func(ps []string) bool {
		for _, p := range ps {
			if fold && istioMatch(strings.ToLower(p), strings.ToLower(v)) || !fold && istioMatch(p, v) {
				return true
			}
		}
		return false
	}
	if vals := strList(path(o, key)); len(vals) > 0 && !m(vals) {
		return false
	}
	if nv := strList(path(o, notKey)); len(nv) > 0 && m(nv) {
		return false
	}
	return true
}

// ruleMatches: one rule of an AuthorizationPolicy (from: any source; to: any operation; when: every condition).
func ruleMatches(rule any, id *Identity, r Request) (bool, error) {
	principal, ns := "", ""
	if id != nil {
		principal, ns = id.Principal(), id.Namespace
	}
	if from := list(path(rule, "from")); len(from) > 0 {
		ok := false
		for _, f := range from {
			s := path(f, "source")
			for _, k := range []string{"requestPrincipals", "notRequestPrincipals", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"} {
				if path(s, k) != nil {
					return false, fmt.Errorf("source.%s is not modelled by the harness", k)
				}
			}
			if field(s, "principals", "notPrincipals", principal, false) && field(s, "namespaces", "notNamespaces", ns, false) &&
				(principal != "" || (path(s, "principals") == nil && path(s, "namespaces") == nil)) {
				ok = true
			}
		}
		if !ok {
			return false, nil
		}
	}
	if to := list(path(rule, "to")); len(to) > 0 {
		ok := false
		for _, t := range to {
			op := path(t, "operation")
			if field(op, "hosts", "notHosts", r.Host, true) && field(op, "methods", "notMethods", r.Method, false) &&
				field(op, "paths", "notPaths", strings.SplitN(r.Path, "?", 2)[0], false) && field(op, "ports", "notPorts", fmt.Sprint(r.Port), false) {
				ok = true
			}
		}
		if !ok {
			return false, nil
		}
	}
	for _, c := range list(path(rule, "when")) {
		var v string
		switch str(path(c, "key")) {
		case "connection.sni":
			v = r.SNI
		case "source.principal":
			v = principal
		case "source.namespace":
			v = ns
		default:
			return false, fmt.Errorf("when key %q is not modelled by the harness", str(path(c, "key")))
		}
		if !field(c, "values", "notValues", v, false) {
			return false, nil
		}
	}
	return true, nil
}

// authzAllows: Istio's evaluation order for a workload's policies (CUSTOM is not modelled: error): any matching
// DENY rule refuses; else, if ALLOW policies exist, a matching ALLOW rule is needed; else allowed. id nil: a client
// without an mTLS identity.
func authzAllows(policies []Object, id *Identity, r Request) (bool, error) {
	anyAllow, allowed := false, false
	for _, ap := range policies {
		action := str(path(ap, "spec", "action"))
		if action == "" {
			action = "ALLOW"
		}
		switch action {
		case "DENY", "ALLOW":
		default:
			return false, fmt.Errorf("AuthorizationPolicy %s/%s: action %s is not modelled by the harness", ap.Namespace(), ap.Name(), action)
		}
		if action == "ALLOW" {
			anyAllow = true
		}
		for _, rule := range list(path(ap, "spec", "rules")) {
			ok, err := ruleMatches(rule, id, r)
			if err != nil {
				return false, fmt.Errorf("AuthorizationPolicy %s/%s: %v", ap.Namespace(), ap.Name(), err)
			}
			if ok && action == "DENY" {
				return false, nil
			}
			if ok {
				allowed = true
			}
		}
	}
	return !anyAllow || allowed, nil
}

// requestVariants: methods and paths to try against policies: GET, POST and every method they name; "/", and every
// path they name (a prefix "x*" as x and x+"x", a suffix "*x" as "/a"+x).
func requestVariants(policies []Object) (methods, paths []string) {
	ms := map[string]bool{"GET": true, "POST": true}
	ps := map[string]bool{"/": true}
	for _, ap := range policies {
		for _, rule := range list(path(ap, "spec", "rules")) {
			for _, t := range list(path(rule, "to")) {
				op := path(t, "operation")
				for _, m := range append(strList(path(op, "methods")), strList(path(op, "notMethods"))...) {
					ms[m] = true
				}
				for _, p := range append(strList(path(op, "paths")), strList(path(op, "notPaths"))...) {
					switch {
					case strings.HasSuffix(p, "*"):
						ps[strings.TrimSuffix(p, "*")] = true
						ps[strings.TrimSuffix(p, "*")+"x"] = true
					case strings.HasPrefix(p, "*"):
						ps["/a"+strings.TrimPrefix(p, "*")] = true
					default:
						ps[p] = true
					}
				}
			}
		}
	}
	for m := range ms {
		methods = append(methods, m)
	}
	for p := range ps {
		paths = append(paths, p)
	}
	sort.Strings(methods)
	sort.Strings(paths)
	return methods, paths
}
