package xds

// What a cluster adds to the manifests before istiod sees them (Pods for Deployments, ClusterIPs, EndpointSlices, a
// Node, Namespaces, waypoint Service/Pods/GatewayClass and Gateway status, ServiceEntry status addresses), and
// starting istiod's own config generator (pilot/test/xds.FakeDiscoveryServer) on it.

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"sigs.k8s.io/yaml"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/mesh"
	pm "istio.io/istio/pkg/model"
	"istio.io/istio/pkg/test"
	"istio.io/istio/pkg/test/util/retry"
)

// MeshMode is one istiod configuration.
type MeshMode struct {
	Name string
	// outboundTrafficPolicy REGISTRY_ONLY instead of ALLOW_ANY
	RegistryOnly bool
	// PILOT_ENABLE_AMBIENT=true (with the flags that follow from it, as istiod sets them at start)
	Ambient bool
	// ServiceEntries without addresses get one from istiod's IP allocator (simulated: status.addresses)
	AutoAllocate bool
	// ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true (wildcard TLS at waypoints)
	WildcardTLS bool
}

var (
	meshDefaults     = MeshMode{Name: "defaults"}
	meshRegistryOnly = MeshMode{Name: "registry-only", RegistryOnly: true}
	meshAmbient      = MeshMode{Name: "ambient", Ambient: true}
	meshAmbientAlloc = MeshMode{Name: "ambient+ip-autoallocation", Ambient: true, AutoAllocate: true}
	meshModes        = []MeshMode{meshDefaults, meshRegistryOnly, meshAmbient, meshAmbientAlloc}
)

// proxyVersions: the ISTIO_VERSION the proxies report, the oldest and newest Istio releases the library supports
// (XDS_PROXY_VERSIONS overrides, comma-separated). FakeDiscoveryServer would otherwise assume 1.23.
func proxyVersions() []string {
	if v := os.Getenv("XDS_PROXY_VERSIONS"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"1.30.0", "1.32.0"}
}

// Mesh is istiod running on one set of manifests, with the workloads a cluster would have.
type Mesh struct {
	t        *testing.T
	Mode     MeshMode
	Version  string
	Objects  []Object // the manifests istiod gets (after mutations and with foreign objects)
	Intended []Object // the manifests as synthesized: where the expectations are read from
	Server   *xds.FakeDiscoveryServer
	Pods     []Pod
	Clients  []Client
	VIPs     map[string]string // host -> address istiod's allocator gave it (simulated)
	nextIP   int
}

// Pod is a simulated running pod.
type Pod struct {
	Name, Namespace, IP, ServiceAccount string
	Labels                              map[string]string
	Ports                               map[string]uint32 // container port name -> number
}

// Client is a sidecar-injected client workload: one unlabelled pod per identity the policies name (plus an
// outsider), and one pod per (identity of a namespace, selector the manifests name in that namespace) with exactly
// the selector's labels (clientSelectors: Sidecar workloadSelectors, NetworkPolicy podSelectors), so a
// workload-scoped Sidecar applies to it as in a cluster.
type Client struct {
	Identity Identity
	Pod      Pod
	Selector map[string]string // the labels the pod was given (nil: unlabelled apart from its app label)
}

// String: the identity, and the selector the pod was made for (test names).
func (c Client) String() string {
	if len(c.Selector) == 0 {
		return c.Identity.String()
	}
	return c.Identity.String() + " " + labelString(c.Selector)
}

// outsider: a workload no policy of the examples names.
var outsider = Identity{"outsider", "intruder"}

func (m *Mesh) ip() string {
	m.nextIP++
	return fmt.Sprintf("10.244.%d.%d", m.nextIP/250, m.nextIP%250+1)
}

// newMesh adds the cluster's objects and starts istiod's generator on them.
func newMesh(t *testing.T, mode MeshMode, version string, objs []Object, clients []Identity, selectors ...map[string][]map[string]string) *Mesh {
	t.Helper()
	if mode.Ambient {
		// As istiod sets them at start with PILOT_ENABLE_AMBIENT=true (pilot/pkg/features/ambient.go registerAmbient).
		test.SetForTest(t, &features.EnableAmbient, true)
		test.SetForTest(t, &features.EnableAmbientWaypoints, true)
		test.SetForTest(t, &features.EnableHBONESend, true)
		test.SetForTest(t, &features.EnableSidecarHBONEListening, true)
		test.SetForTest(t, &features.EnableAmbientStatus, true)
		test.SetForTest(t, &features.EnableIngressWaypointRouting, true)
	}
	if mode.WildcardTLS {
		test.SetForTest(t, &features.EnableWildcardHostServiceEntriesForTLS, true)
	}
	m := &Mesh{t: t, Mode: mode, Version: version, VIPs: map[string]string{}}
	var config, kube []string
	add := func(list *[]string, o Object) {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		*list = append(*list, string(b))
	}
	namespaces := map[string]Object{}
	for _, o := range objs {
		if o.Kind() == "Namespace" {
			namespaces[o.Name()] = o
		}
	}
	needNamespace := func(ns string) {
		if ns != "" && namespaces[ns] == nil {
			namespaces[ns] = Object{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}
		}
	}
	allocated := 0
	services := []Object{}
	for _, orig := range objs {
		o := orig.deepCopy()
		needNamespace(o.Namespace())
		switch {
		case o.Kind() == "Namespace":
			continue
		case o.Kind() == "ServiceEntry":
			if len(strList(path(o, "spec", "addresses"))) == 0 && (mode.AutoAllocate || str(path(o, "spec", "resolution")) == "DYNAMIC_DNS") {
				// istiod's IP allocator (pilot/pkg/controllers/ipallocate): one address per host, wildcards only
				// for DYNAMIC_DNS, from 240.240.0.0/16.
				var addrs []any
				for _, h := range strList(path(o, "spec", "hosts")) {
					if strings.HasPrefix(h, "*") && str(path(o, "spec", "resolution")) != "DYNAMIC_DNS" {
						continue
					}
					allocated++
					vip := fmt.Sprintf("240.240.%d.%d", allocated/250, allocated%250+1)
					m.VIPs[h] = vip
					addrs = append(addrs, map[string]any{"value": vip, "host": h})
				}
				if len(addrs) > 0 {
					o["status"] = map[string]any{"addresses": addrs}
				}
			}
		case o.Kind() == "Gateway" && str(path(o, "spec", "gatewayClassName")) == "istio-waypoint":
			// What Istio's deployment controller creates for a waypoint: its Service, Pods, and the Gateway status.
			svcName := o.Name()
			o["status"] = map[string]any{"addresses": []any{map[string]any{"type": "Hostname", "value": svcName + "." + o.Namespace() + ".svc.cluster.local"}}}
			labels := waypointPodLabels(o.Name())
			svc := Object{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": svcName, "namespace": o.Namespace(), "labels": toAny(labels)},
				"spec": map[string]any{"ports": []any{map[string]any{"name": "mesh", "port": 15008, "appProtocol": "hbone"}}, "selector": map[string]any{"gateway.networking.k8s.io/gateway-name": o.Name()}}}
			services = append(services, svc)
			for i := 0; i < 2; i++ {
				m.Pods = append(m.Pods, Pod{Name: fmt.Sprintf("%s-%d", o.Name(), i), Namespace: o.Namespace(), IP: m.ip(), ServiceAccount: o.Name(), Labels: labels, Ports: map[string]uint32{"mesh": 15008}})
			}
		case o.Kind() == "Service":
			services = append(services, o)
			continue
		case o.Kind() == "Deployment":
			tmpl := path(o, "spec", "template")
			replicas := int(num(path(o, "spec", "replicas")))
			if replicas == 0 || replicas > 2 {
				replicas = 2
			}
			ports := map[string]uint32{}
			for _, c := range list(path(tmpl, "spec", "containers")) {
				for _, p := range list(path(c, "ports")) {
					ports[str(path(p, "name"))] = num(path(p, "containerPort"))
				}
			}
			sa := str(path(tmpl, "spec", "serviceAccountName"))
			if sa == "" {
				sa = "default"
			}
			for i := 0; i < replicas; i++ {
				m.Pods = append(m.Pods, Pod{Name: fmt.Sprintf("%s-%d", o.Name(), i), Namespace: o.Namespace(), IP: m.ip(), ServiceAccount: sa,
					Labels: strMap(path(tmpl, "metadata", "labels")), Ports: ports})
			}
		}
		if o.isIstio() {
			add(&config, o)
			if mode.Ambient {
				// The ambient index and the Gateway API controller read these from the kube client.
				add(&kube, o)
			}
		} else {
			add(&kube, o)
		}
	}
	if mode.Ambient && len(readWaypoints(objs)) > 0 {
		gc := Object{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": map[string]any{"name": "istio-waypoint"},
			"spec": map[string]any{"controllerName": "istio.io/mesh-controller"}}
		add(&config, gc)
		add(&kube, gc)
	}
	// Selected clients: for each namespace a selector names, every identity of that namespace (an invented one if
	// none) gets a pod with exactly the selector's labels.
	sel := map[string][]map[string]string{}
	for _, s := range selectors {
		for ns, l := range s {
			sel[ns] = append(sel[ns], l...)
		}
	}
	all := append([]Identity{}, clients...)
	nss := make([]string, 0, len(sel))
	for ns := range sel {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	type selected struct {
		id  Identity
		sel map[string]string
	}
	var selClients []selected
	for _, ns := range nss {
		var ids []Identity
		for _, id := range clients {
			if id.Namespace == ns {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			ids = []Identity{{ns, "any-workload"}}
			all = append(all, ids[0])
		}
		seen := map[string]bool{}
		for _, l := range sel[ns] {
			if seen[labelString(l)] {
				continue
			}
			seen[labelString(l)] = true
			for _, id := range ids {
				selClients = append(selClients, selected{id, l})
			}
		}
	}
	for _, id := range all {
		needNamespace(id.Namespace)
		p := Pod{Name: "client-" + id.ServiceAccount, Namespace: id.Namespace, IP: m.ip(), ServiceAccount: id.ServiceAccount,
			Labels: map[string]string{"app": "client-" + id.ServiceAccount}}
		m.Pods = append(m.Pods, p)
		m.Clients = append(m.Clients, Client{Identity: id, Pod: p})
		if find(objs, "ServiceAccount", id.Namespace, id.ServiceAccount) == nil {
			add(&kube, Object{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": id.ServiceAccount, "namespace": id.Namespace}})
		}
	}
	for _, sc := range selClients {
		p := Pod{Name: "client-" + sc.id.ServiceAccount + "-" + podNamePart(labelString(sc.sel)), Namespace: sc.id.Namespace, IP: m.ip(),
			ServiceAccount: sc.id.ServiceAccount, Labels: sc.sel}
		m.Pods = append(m.Pods, p)
		m.Clients = append(m.Clients, Client{Identity: sc.id, Pod: p, Selector: sc.sel})
	}
	names := make([]string, 0, len(namespaces))
	for n := range namespaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		add(&kube, namespaces[n])
	}
	add(&kube, Object{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "node-1",
		"labels": map[string]any{"topology.kubernetes.io/zone": "zone-a", "topology.kubernetes.io/region": "region-a"}}})
	for _, p := range m.Pods {
		annotations := map[string]any{}
		if mode.Ambient && namespaces[p.Namespace] != nil && strMap(path(namespaces[p.Namespace], "metadata", "labels"))["istio.io/dataplane-mode"] == "ambient" {
			annotations["ambient.istio.io/redirection"] = "enabled"
		}
		add(&kube, Object{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": p.Name, "namespace": p.Namespace, "labels": toAny(p.Labels), "annotations": annotations},
			"spec":     map[string]any{"serviceAccountName": p.ServiceAccount, "nodeName": "node-1", "containers": []any{map[string]any{"name": "app", "image": "app"}}},
			"status": map[string]any{"phase": "Running", "podIP": p.IP, "podIPs": []any{map[string]any{"ip": p.IP}},
				"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}}})
	}
	for i, s := range services {
		if str(path(s, "spec", "clusterIP")) == "" {
			s["spec"].(map[string]any)["clusterIP"] = fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)
		}
		add(&kube, s)
		// EndpointSlice of the pods the Service selects.
		sel := strMap(path(s, "spec", "selector"))
		var ports, eps []any
		for _, sp := range list(path(s, "spec", "ports")) {
			tp := path(sp, "targetPort")
			var n uint32
			if name, ok := tp.(string); ok {
				for _, p := range m.Pods {
					if selects(sel, p.Labels) && p.Namespace == s.Namespace() {
						n = p.Ports[name]
					}
				}
			} else if n = num(tp); n == 0 {
				n = num(path(sp, "port"))
			}
			port := map[string]any{"name": str(path(sp, "name")), "port": n, "protocol": "TCP"}
			if ap := str(path(sp, "appProtocol")); ap != "" {
				port["appProtocol"] = ap
			}
			ports = append(ports, port)
		}
		for _, p := range m.Pods {
			if p.Namespace == s.Namespace() && selects(sel, p.Labels) {
				eps = append(eps, map[string]any{"addresses": []any{p.IP}, "conditions": map[string]any{"ready": true}, "nodeName": "node-1",
					"targetRef": map[string]any{"kind": "Pod", "name": p.Name, "namespace": p.Namespace}})
			}
		}
		if len(eps) > 0 {
			add(&kube, Object{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
				"metadata":    map[string]any{"name": s.Name() + "-slice", "namespace": s.Namespace(), "labels": map[string]any{"kubernetes.io/service-name": s.Name()}},
				"addressType": "IPv4", "ports": ports, "endpoints": eps})
		}
	}
	mc := mesh.DefaultMeshConfig()
	if mode.RegistryOnly {
		mc.OutboundTrafficPolicy = &meshconfig.MeshConfig_OutboundTrafficPolicy{Mode: meshconfig.MeshConfig_OutboundTrafficPolicy_REGISTRY_ONLY}
	}
	m.Objects = objs
	m.Server = xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		ConfigString:           strings.Join(config, "\n---\n"),
		KubernetesObjectString: strings.Join(kube, "\n---\n"),
		MeshConfig:             mc,
	})
	if m.Server.AmbientIndex != nil {
		// The ambient index runs on its own; wait until it has processed the initial objects, then push again so
		// the push context sees them (as istiod does once its informers have synced).
		retry.UntilOrFail(t, m.Server.AmbientIndex.HasSynced, retry.Timeout(30*time.Second))
		m.Server.Discovery.ConfigUpdate(&model.PushRequest{Forced: true, Reason: model.NewReasonStats(model.GlobalUpdate)})
		m.Server.EnsureSynced(t)
	}
	return m
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Proxy is one proxy's xDS: what istiod would send it.
type Proxy struct {
	Name      string // e.g. "gateway istio-egress/egress-gateway-0"
	Kind      string // summary group: "gateway Router", "client sidecar", "waypoint", ...
	Model     *model.Proxy
	Pod       Pod
	Listeners []*listener.Listener
	Clusters  []*cluster.Cluster
	Routes    []*route.RouteConfiguration
	Endpoints []*endpoint.ClusterLoadAssignment
}

func (m *Mesh) podsOf(selector map[string]string, namespace string) []Pod {
	var out []Pod
	for _, p := range m.Pods {
		if (namespace == "" || p.Namespace == namespace) && selects(selector, p.Labels) {
			out = append(out, p)
		}
	}
	return out
}

// proxy builds a proxy of the given type for a pod and generates its LDS/CDS/RDS/EDS.
func (m *Mesh) proxy(kind string, typ model.NodeType, pod Pod) *Proxy {
	m.t.Helper()
	p := m.Server.SetupProxy(&model.Proxy{
		Type:            typ,
		ID:              pod.Name + "." + pod.Namespace,
		IPAddresses:     []string{pod.IP},
		ConfigNamespace: pod.Namespace,
		Labels:          pod.Labels,
		Metadata: &model.NodeMetadata{
			ClusterID:      "Kubernetes",
			IstioVersion:   m.Version,
			Namespace:      pod.Namespace,
			ServiceAccount: pod.ServiceAccount,
			Labels:         pod.Labels,
			NodeName:       "node-1",
			WorkloadName:   pod.Name,
			DNSCapture:     pm.StringBool(m.Mode.AutoAllocate),
		},
	})
	out := &Proxy{Name: fmt.Sprintf("%s %s/%s", kind, pod.Namespace, pod.Name), Kind: kind, Model: p, Pod: pod}
	out.Listeners = m.Server.Listeners(p)
	out.Clusters = m.Server.Clusters(p)
	out.Routes = m.Server.RoutesFromListeners(p, out.Listeners)
	out.Endpoints = m.Server.Endpoints(p)
	return out
}

func (m *Mesh) gateway(kind string, selector map[string]string, namespace string) *Proxy {
	pods := m.podsOf(selector, namespace)
	if len(pods) == 0 {
		m.t.Fatalf("no pods for gateway selector %v in %q", selector, namespace)
	}
	return m.proxy(kind, model.Router, pods[0])
}

// client: the unlabelled client pod of the identity.
func (m *Mesh) client(id Identity) *Proxy {
	for _, c := range m.Clients {
		if c.Identity == id && len(c.Selector) == 0 {
			return m.proxy("client sidecar", model.SidecarProxy, c.Pod)
		}
	}
	m.t.Fatalf("no client %v", id)
	return nil
}

func (m *Mesh) waypoint(w *WaypointIntent) *Proxy {
	pods := m.podsOf(map[string]string{"gateway.networking.k8s.io/gateway-name": w.Name}, w.Namespace)
	if len(pods) == 0 {
		m.t.Fatalf("no waypoint pods for %s/%s", w.Namespace, w.Name)
	}
	return m.proxy("waypoint", model.Waypoint, pods[0])
}

// clientProxy: the sidecar of one client pod (labelled or not).
func (m *Mesh) clientProxy(c Client) *Proxy {
	return m.proxy("client sidecar", model.SidecarProxy, c.Pod)
}

// labelString: k=v,... sorted.
func labelString(l map[string]string) string {
	var kv []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// podNamePart: s as DNS-label characters.
func podNamePart(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	return b.String()
}
