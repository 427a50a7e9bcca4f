package xds

// Reading Envoy configuration: typed_config unpacking, protoc-gen-validate, filter chains, TLS contexts, and an
// evaluator for the RBAC configs istiod generates (so "admits exactly allowFrom" is checked by evaluating the
// rules Envoy gets, not by comparing their text).

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbaccfg "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacnet "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	internalupstream "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/internal_upstream/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	// Types the EnvoyFilters and istiod use, so typed_configs can be unpacked.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/cares/v3"
)

// validateAll runs protoc-gen-validate's ValidateAll() on a resource and on every typed_config (google.protobuf.Any)
// inside it, unpacked recursively. It returns the violations and the type URLs that have no validator.
func validateAll(name string, m proto.Message) (violations []string, unvalidated []string) {
	seen := map[string]bool{}
	var visit func(where string, msg proto.Message)
	visit = func(where string, msg proto.Message) {
		if v, ok := msg.(interface{ ValidateAll() error }); ok {
			if err := v.ValidateAll(); err != nil {
				violations = append(violations, fmt.Sprintf("%s: %v", where, err))
			}
		} else if !seen[string(msg.ProtoReflect().Descriptor().FullName())] {
			seen[string(msg.ProtoReflect().Descriptor().FullName())] = true
			unvalidated = append(unvalidated, string(msg.ProtoReflect().Descriptor().FullName()))
		}
		walkAny(msg.ProtoReflect(), func(a *anypb.Any) {
			inner, err := a.UnmarshalNew()
			if err != nil {
				violations = append(violations, fmt.Sprintf("%s: typed_config %s cannot be unpacked: %v", where, a.TypeUrl, err))
				return
			}
			visit(where+" > "+a.TypeUrl[strings.LastIndex(a.TypeUrl, "/")+1:], inner)
		})
	}
	visit(name, m)
	sort.Strings(unvalidated)
	return violations, unvalidated
}

// walkAny calls f for every google.protobuf.Any directly or indirectly inside m (not inside the Anys themselves).
func walkAny(m protoreflect.Message, f func(*anypb.Any)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		each := func(msg protoreflect.Message) {
			if a, ok := msg.Interface().(*anypb.Any); ok {
				f(a)
				return
			}
			walkAny(msg, f)
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				each(l.Get(i).Message())
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					each(mv.Message())
					return true
				})
			}
		default:
			each(v.Message())
		}
		return true
	})
}

func unpack[T proto.Message](a *anypb.Any, into T) (T, bool) {
	if a == nil || a.UnmarshalTo(into) != nil {
		var zero T
		return zero, false
	}
	return into, true
}

func findListener(ls []*listener.Listener, name string) *listener.Listener {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func findCluster(cs []*cluster.Cluster, name string) *cluster.Cluster {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func listenerOnPort(ls []*listener.Listener, port uint32) *listener.Listener {
	for _, l := range ls {
		if l.GetAddress().GetSocketAddress().GetPortValue() == port && l.GetInternalListener() == nil {
			return l
		}
	}
	return nil
}

func chains(l *listener.Listener) []*listener.FilterChain {
	out := append([]*listener.FilterChain{}, l.GetFilterChains()...)
	if l.GetDefaultFilterChain() != nil {
		out = append(out, l.GetDefaultFilterChain())
	}
	return out
}

func tcpProxyOf(fc *listener.FilterChain) *tcpproxy.TcpProxy {
	for _, f := range fc.GetFilters() {
		if tp, ok := unpack(f.GetTypedConfig(), &tcpproxy.TcpProxy{}); ok {
			return tp
		}
	}
	return nil
}

func hcmOf(fc *listener.FilterChain) *hcm.HttpConnectionManager {
	for _, f := range fc.GetFilters() {
		if h, ok := unpack(f.GetTypedConfig(), &hcm.HttpConnectionManager{}); ok {
			return h
		}
	}
	return nil
}

func downstreamTLS(fc *listener.FilterChain) *tlsv3.DownstreamTlsContext {
	t, _ := unpack(fc.GetTransportSocket().GetTypedConfig(), &tlsv3.DownstreamTlsContext{})
	return t
}

// requiresIstioMTLS: the chain terminates TLS with the workload certificate (SDS "default"), requires a client
// certificate and validates it against the mesh root (SDS "ROOTCA").
func requiresIstioMTLS(fc *listener.FilterChain) error {
	t := downstreamTLS(fc)
	if t == nil {
		return fmt.Errorf("no DownstreamTlsContext")
	}
	if !t.GetRequireClientCertificate().GetValue() {
		return fmt.Errorf("client certificate not required")
	}
	cc := t.GetCommonTlsContext()
	if len(cc.GetTlsCertificateSdsSecretConfigs()) == 0 || cc.GetTlsCertificateSdsSecretConfigs()[0].GetName() != "default" {
		return fmt.Errorf("not the workload certificate (SDS default): %v", cc.GetTlsCertificateSdsSecretConfigs())
	}
	if cc.GetCombinedValidationContext().GetValidationContextSdsSecretConfig().GetName() != "ROOTCA" {
		return fmt.Errorf("client certificates not validated against the mesh root (ROOTCA)")
	}
	return nil
}

func upstreamTLS(c *cluster.Cluster) *tlsv3.UpstreamTlsContext {
	if c.GetTransportSocket() != nil {
		if t, ok := unpack(c.GetTransportSocket().GetTypedConfig(), &tlsv3.UpstreamTlsContext{}); ok {
			return t
		}
		// A waypoint wraps it in an internal upstream transport (the connection leaves through its inner socket).
		if iu, ok := unpack(c.GetTransportSocket().GetTypedConfig(), &internalupstream.InternalUpstreamTransport{}); ok {
			if t, ok := unpack(iu.GetTransportSocket().GetTypedConfig(), &tlsv3.UpstreamTlsContext{}); ok {
				return t
			}
		}
	}
	for _, m := range c.GetTransportSocketMatches() {
		if t, ok := unpack(m.GetTransportSocket().GetTypedConfig(), &tlsv3.UpstreamTlsContext{}); ok && m.GetName() != "tlsMode-disabled" {
			return t
		}
	}
	return nil
}

// upstreamSANs: the subject alt names an upstream TLS context verifies.
func upstreamSANs(t *tlsv3.UpstreamTlsContext) []string {
	var out []string
	cc := t.GetCommonTlsContext()
	for _, v := range []*tlsv3.CertificateValidationContext{cc.GetValidationContext(), cc.GetCombinedValidationContext().GetDefaultValidationContext()} {
		for _, s := range v.GetMatchTypedSubjectAltNames() {
			out = append(out, describeString(s.GetMatcher()))
		}
		for _, s := range v.GetMatchSubjectAltNames() {
			out = append(out, describeString(s))
		}
	}
	return out
}

func describeString(m *matcher.StringMatcher) string {
	switch p := m.GetMatchPattern().(type) {
	case *matcher.StringMatcher_Exact:
		return p.Exact
	case *matcher.StringMatcher_Prefix:
		return "prefix:" + p.Prefix
	case *matcher.StringMatcher_Suffix:
		return "suffix:" + p.Suffix
	case *matcher.StringMatcher_SafeRegex:
		return "regex:" + p.SafeRegex.GetRegex()
	case *matcher.StringMatcher_Contains:
		return "contains:" + p.Contains
	}
	return fmt.Sprint(m)
}

// chainsForSNI: the filter chains of a listener a TLS connection with this SNI can be selected for (server_names
// match, or a chain without server_names).
func chainForSNI(l *listener.Listener, sni string) *listener.FilterChain {
	var exact, wild, none *listener.FilterChain
	bestWild := -1
	for _, fc := range l.GetFilterChains() {
		names := fc.GetFilterChainMatch().GetServerNames()
		if len(names) == 0 && none == nil {
			none = fc
		}
		for _, n := range names {
			if n == sni {
				exact = fc
			} else if sniMatches(n, sni) && len(n) > bestWild {
				wild, bestWild = fc, len(n)
			}
		}
	}
	switch {
	case exact != nil:
		return exact
	case wild != nil:
		return wild
	case none != nil:
		return none
	}
	return l.GetDefaultFilterChain()
}

// ---- RBAC evaluation --------------------------------------------------------------------------------------------

// Request is what an RBAC filter can see of a connection or request.
type Request struct {
	Principal string // spiffe://... of the peer certificate, "" for none
	Port      uint32 // destination port
	SNI       string
	Method    string
	Path      string
	Host      string
}

// rbacFilters: the ALLOW/DENY RBAC configs (network and HTTP) of a filter chain, in order.
func rbacFilters(fc *listener.FilterChain) []*rbaccfg.RBAC {
	var out []*rbaccfg.RBAC
	for _, f := range fc.GetFilters() {
		if r, ok := unpack(f.GetTypedConfig(), &rbacnet.RBAC{}); ok && r.GetRules() != nil {
			out = append(out, r.GetRules())
		}
		if h := hcmOf(fc); h != nil && f.GetName() == "envoy.filters.network.http_connection_manager" {
			for _, hf := range h.GetHttpFilters() {
				if r, ok := unpack(hf.GetTypedConfig(), &rbachttp.RBAC{}); ok && r.GetRules() != nil {
					out = append(out, r.GetRules())
				}
			}
		}
	}
	return out
}

// admitted: whether every RBAC filter lets the request through. An unsupported matcher is an error (the check
// must not guess).
func admitted(fc *listener.FilterChain, r Request) (bool, error) {
	for _, rules := range rbacFilters(fc) {
		matched := false
		for _, p := range rules.GetPolicies() {
			perm, err := anyPermission(p.GetPermissions(), r)
			if err != nil {
				return false, err
			}
			prin, err := anyPrincipal(p.GetPrincipals(), r)
			if err != nil {
				return false, err
			}
			if perm && prin {
				matched = true
			}
		}
		switch rules.GetAction() {
		case rbaccfg.RBAC_ALLOW:
			if !matched {
				return false, nil
			}
		case rbaccfg.RBAC_DENY:
			if matched {
				return false, nil
			}
		}
	}
	return true, nil
}

func anyPermission(ps []*rbaccfg.Permission, r Request) (bool, error) {
	for _, p := range ps {
		ok, err := permission(p, r)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func permission(p *rbaccfg.Permission, r Request) (bool, error) {
	switch x := p.GetRule().(type) {
	case *rbaccfg.Permission_Any:
		return x.Any, nil
	case *rbaccfg.Permission_AndRules:
		for _, q := range x.AndRules.GetRules() {
			ok, err := permission(q, r)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case *rbaccfg.Permission_OrRules:
		return anyPermission(x.OrRules.GetRules(), r)
	case *rbaccfg.Permission_NotRule:
		ok, err := permission(x.NotRule, r)
		return !ok, err
	case *rbaccfg.Permission_DestinationPort:
		return x.DestinationPort == r.Port, nil
	case *rbaccfg.Permission_DestinationPortRange:
		return r.Port >= uint32(x.DestinationPortRange.GetStart()) && r.Port < uint32(x.DestinationPortRange.GetEnd()), nil
	case *rbaccfg.Permission_RequestedServerName:
		return stringMatch(x.RequestedServerName, r.SNI)
	case *rbaccfg.Permission_Header:
		return headerMatch(x.Header, r)
	case *rbaccfg.Permission_UrlPath:
		return stringMatch(x.UrlPath.GetPath(), strings.SplitN(r.Path, "?", 2)[0])
	}
	return false, fmt.Errorf("unsupported RBAC permission %T", p.GetRule())
}

func headerMatch(h *route.HeaderMatcher, r Request) (bool, error) {
	var value string
	var present bool
	switch strings.ToLower(h.GetName()) {
	case ":method":
		value, present = r.Method, r.Method != ""
	case ":authority", "host":
		value, present = r.Host, r.Host != ""
	case ":path":
		value, present = r.Path, r.Path != ""
	default:
		present = false
	}
	var ok bool
	var err error
	switch m := h.GetHeaderMatchSpecifier().(type) {
	case *route.HeaderMatcher_StringMatch:
		if !present {
			ok = false
		} else {
			ok, err = stringMatch(m.StringMatch, value)
		}
	case *route.HeaderMatcher_PresentMatch:
		ok = present == m.PresentMatch
	case *route.HeaderMatcher_ExactMatch:
		ok = present && value == m.ExactMatch
	case *route.HeaderMatcher_PrefixMatch:
		ok = present && strings.HasPrefix(value, m.PrefixMatch)
	case *route.HeaderMatcher_SuffixMatch:
		ok = present && strings.HasSuffix(value, m.SuffixMatch)
	default:
		return false, fmt.Errorf("unsupported header matcher %T", h.GetHeaderMatchSpecifier())
	}
	if h.GetInvertMatch() {
		ok = !ok
	}
	return ok, err
}

func anyPrincipal(ps []*rbaccfg.Principal, r Request) (bool, error) {
	for _, p := range ps {
		ok, err := principal(p, r)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func principal(p *rbaccfg.Principal, r Request) (bool, error) {
	switch x := p.GetIdentifier().(type) {
	case *rbaccfg.Principal_Any:
		return x.Any, nil
	case *rbaccfg.Principal_AndIds:
		for _, q := range x.AndIds.GetIds() {
			ok, err := principal(q, r)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case *rbaccfg.Principal_OrIds:
		return anyPrincipal(x.OrIds.GetIds(), r)
	case *rbaccfg.Principal_NotId:
		ok, err := principal(x.NotId, r)
		return !ok, err
	case *rbaccfg.Principal_Authenticated_:
		if r.Principal == "" {
			return false, nil
		}
		if x.Authenticated.GetPrincipalName() == nil {
			return true, nil
		}
		return stringMatch(x.Authenticated.GetPrincipalName(), r.Principal)
	case *rbaccfg.Principal_FilterState:
		// Istio's waypoint identifies the peer by filter state (io.istio.peer_principal, set from the HBONE tunnel).
		if strings.HasSuffix(x.FilterState.GetKey(), "peer_principal") {
			if r.Principal == "" {
				return false, nil
			}
			return stringMatch(x.FilterState.GetStringMatch(), r.Principal)
		}
	}
	return false, fmt.Errorf("unsupported RBAC principal %T %v", p.GetIdentifier(), p)
}

func stringMatch(m *matcher.StringMatcher, v string) (bool, error) {
	if m.GetIgnoreCase() {
		v = strings.ToLower(v)
	}
	lc := func(s string) string {
		if m.GetIgnoreCase() {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcher.StringMatcher_Exact:
		return v == lc(p.Exact), nil
	case *matcher.StringMatcher_Prefix:
		return strings.HasPrefix(v, lc(p.Prefix)), nil
	case *matcher.StringMatcher_Suffix:
		return strings.HasSuffix(v, lc(p.Suffix)), nil
	case *matcher.StringMatcher_Contains:
		return strings.Contains(v, lc(p.Contains)), nil
	case *matcher.StringMatcher_SafeRegex:
		re, err := regexp.Compile("^(?:" + p.SafeRegex.GetRegex() + ")$")
		if err != nil {
			return false, err
		}
		return re.MatchString(v), nil
	}
	return false, fmt.Errorf("unsupported string matcher %T", m.GetMatchPattern())
}
