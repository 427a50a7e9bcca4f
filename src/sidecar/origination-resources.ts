/**
 * The Istio objects of a TLS origination (`TlsOriginationEgress`, which keeps the construct, its props and API): the
 * ServiceEntries for clients and for the gateway, the Gateway server, the AuthorizationPolicy, the gateway's DNS
 * EnvoyFilter, each host's VirtualService and origination DestinationRule, and the object size checks.
 */
import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { IEgressGateway } from './egress-gateway-base';
import * as net from '../../imports/networking.istio.io';
import * as sec from '../../imports/security.istio.io';
import { ExternalHost } from '../core/host';
import { HostScreen } from '../core/host-risk';
import { authorizationSources, WorkloadIdentity } from '../core/identity';
import { istioObject } from '../core/istio-object';
import { MeshSettings } from '../core/mesh';
import { dnsLabelName } from '../core/names';
import { hostListBytes, objectSizeProblem } from '../core/object-size';
import { OriginationTls } from '../core/origination-tls';
import { EgressPort, Protocol } from '../core/port';
import { ServiceEntryShards } from '../core/service-entries';
import { libraryLabels } from '../core/visibility';

const PortTlsMode = net.DestinationRuleSpecTrafficPolicyPortLevelSettingsTlsMode;

/**
 * Request headers the gateway removes before a request leaves the mesh, because they identify the calling workload:
 * - `x-forwarded-client-cert`: the caller's certificate and SPIFFE ID (Istio gateways `SANITIZE_SET` it,
 *   `pilot/pkg/networking/core/gateway.go` `buildGatewayConnectionManager`);
 * - `x-forwarded-for` and `x-envoy-external-address`: the caller's pod IP. Istio gateways use the remote address and
 *   configure no internal networks (ENABLE_HCM_INTERNAL_NETWORKS is off), so Envoy treats every request as an edge
 *   request and sets both (`source/common/http/conn_manager_utility.cc` `mutateRequestHeaders`);
 * - `x-envoy-peer-metadata`, `x-envoy-peer-metadata-id`: the caller's workload name, namespace and labels (Istio's
 *   metadata exchange).
 *
 * Kept on purpose: `x-request-id` (Envoy generates a new one for every edge request, so it links the request to the
 * gateway's access log line and to nothing inside) and trace context headers (`traceparent`, `b3`, `x-b3-*`): they
 * carry random trace and span IDs, no identity, and with tracing on the gateway's own tracer writes them into the
 * upstream request after the route's header rules, so a route could not remove them reliably.
 */
const STRIPPED_REQUEST_HEADERS = [
  'x-forwarded-client-cert',
  'x-forwarded-for',
  'x-envoy-external-address',
  'x-envoy-peer-metadata',
  'x-envoy-peer-metadata-id',
];

/**
 * The c-ares settings of the origination clusters: Istio's own (`udp_max_queries`, PILOT_DNS_CARES_UDP_MAX_QUERIES
 * default 100, `pilot/pkg/networking/core/cluster_builder.go`) plus `no_default_search_domain`, so each host is
 * resolved exactly as given, never through the gateway pod's search path.
 */
const CARES_NO_SEARCH = {
  name: 'envoy.network.dns_resolver.cares',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
    'dns_resolver_options': { no_default_search_domain: true },
    'udp_max_queries': 100,
  },
};

/** The JSON bytes of one cluster patch of the DNS EnvoyFilter besides the host name (measured: about 330). */
const DNS_PATCH_BYTES = 400;

/**
 * The settings of a TLS origination its objects are rendered from (the `TlsOriginationEgress` itself).
 *
 * @internal
 */
export interface OriginationSettings {
  readonly name: string;
  readonly namespace: string;
  readonly gateway: IEgressGateway;
  readonly gatewayPort: EgressPort;
  readonly httpPort: EgressPort;
  readonly tlsPort: EgressPort;
  readonly exportTo: string[];
  readonly mesh: MeshSettings;
}

/**
 * One originated host.
 *
 * @internal
 */
export interface HostEntry {
  readonly host: ExternalHost;
  readonly tls: OriginationTls;
  /** Name of the host's VirtualService, origination DestinationRule and subset. */
  readonly resourceName: string;
}

/**
 * The objects an origination has whatever its hosts (each lists the hosts, read at synth).
 *
 * @internal
 */
export interface OriginationObjects {
  readonly clientServiceEntries: ServiceEntryShards;
  readonly upstreamServiceEntries: ServiceEntryShards;
  readonly istioGateway: ApiObject;
  readonly authorizationPolicy: ApiObject;
  readonly dnsFilter: ApiObject;
}

/**
 * Defines the ServiceEntries, the Gateway, the AuthorizationPolicy and the DNS EnvoyFilter of `scope` (the
 * origination), in that order.
 *
 * @param hosts the current sorted host names, read at synth
 * @internal
 */
export function defineOriginationObjects(
  scope: Construct,
  o: OriginationSettings,
  identities: WorkloadIdentity[],
  hostScreen: HostScreen,
  hosts: () => string[],
): OriginationObjects {
  // Two entries for the same hosts, so client sidecars never learn host:443 (which would let an application's own
  // HTTPS go to the host directly). Clients see only the HTTP port; the gateway sees only the TLS port: Istio lists
  // a proxy's private and explicitly exported services before public ones and keeps the first entry of a host
  // (same-namespace entries with different exportTo are not merged: `pilot/pkg/model/sidecar.go`
  // `appendSidecarServices`, `canMergeServices`; `push_context.go` `servicesExportedToNamespace`).
  const clientServiceEntries = new ServiceEntryShards(scope, 'ServiceEntry', o.name, hosts, (name) => ({
    metadata: { ...originationMetadata(o, name), annotations: hostScreen.annotations },
    spec: {
      exportTo: clientExportTo(o),
      location: net.ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
      // DNS: each host is resolved by name (never a client-chosen IP, as with NONE); hosts are exact names.
      resolution: net.ServiceEntrySpecResolution.DNS,
      ports: [{ number: o.httpPort.number, name: o.httpPort.name, protocol: Protocol.HTTP }],
    },
  }));
  const upstreamServiceEntries = new ServiceEntryShards(scope, 'UpstreamServiceEntry', upstreamEntryName(o), hosts, (name) => ({
    metadata: originationMetadata(o, name),
    spec: {
      exportTo: ['.'],
      location: net.ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
      resolution: net.ServiceEntrySpecResolution.DNS,
      ports: [{ number: o.tlsPort.number, name: o.tlsPort.name, protocol: Protocol.HTTPS }],
    },
  }));

  const istioGateway = istioObject(scope, 'Resource', net.Gateway, {
    metadata: originationMetadata(o, o.name),
    spec: {
      selector: o.gateway.selectorLabels,
      servers: [
        {
          port: { number: o.gatewayPort.number, name: `https-${o.gatewayPort.number}`, protocol: Protocol.HTTPS },
          // `./host`: only VirtualServices of this namespace (this construct's) may bind to the server.
          hosts: Lazy.any({ produce: () => hosts().map((h) => `./${h}`) }) as any,
          tls: { mode: net.GatewaySpecServersTlsMode.ISTIO_UNDERSCORE_MUTUAL },
        },
      ],
    },
  });

  const authorizationPolicy = istioObject(scope, 'AuthorizationPolicy', sec.AuthorizationPolicy, {
    metadata: originationMetadata(o, o.name),
    spec: {
      selector: { matchLabels: o.gateway.selectorLabels },
      action: sec.AuthorizationPolicySpecAction.ALLOW,
      rules: [
        {
          from: authorizationSources(identities, o.mesh),
          to: [
            {
              operation: {
                ports: [String(o.gatewayPort.podPort)],
                // The Host of each request: one of the hosts (Envoy matches it exactly, ignoring case).
                hosts: Lazy.any({ produce: () => hosts() }) as any,
              },
            },
          ],
          // Only connections to this construct's server: the client subsets present the host as SNI. A server
          // another Gateway binds to the same pods and port (Gateways without selector apply to every gateway, and
          // selector Gateways of other namespaces too unless istiod runs with PILOT_SCOPE_GATEWAY_TO_NAMESPACE)
          // has other SNIs, so this policy does not allow it.
          when: [{ key: 'connection.sni', values: Lazy.any({ produce: () => hosts() }) as any }],
        },
      ],
    },
  });

  return { clientServiceEntries, upstreamServiceEntries, istioGateway, authorizationPolicy, dnsFilter: defineDnsFilter(scope, o, hosts) };
}

/**
 * Defines the VirtualService and the origination DestinationRule of one host, under a construct named after the host.
 *
 * @internal
 */
export function defineHostResources(scope: Construct, o: OriginationSettings, entry: HostEntry): void {
  const host = entry.host.name;
  const hostScope = new Construct(scope, host);
  const gatewayRef = `${o.namespace}/${o.name}`;

  istioObject(hostScope, 'VirtualService', net.VirtualService, {
    metadata: originationMetadata(o, entry.resourceName),
    spec: {
      hosts: [host],
      exportTo: o.exportTo,
      gateways: ['mesh', gatewayRef],
      http: [
        {
          name: 'mesh-to-egress-gateway',
          match: [{ gateways: ['mesh'], port: o.httpPort.number }],
          route: [{ destination: { host: o.gateway.serviceFqdn, subset: entry.resourceName, port: { number: o.gatewayPort.number } } }],
        },
        {
          name: 'egress-gateway-to-host',
          match: [{ gateways: [gatewayRef], port: o.gatewayPort.number }],
          route: [{ destination: { host, port: { number: o.tlsPort.number } } }],
          // The gateway would otherwise tell the external host who called: the client's certificate and SPIFFE
          // ID, its pod IP and its workload metadata (STRIPPED_REQUEST_HEADERS says which header carries what).
          headers: { request: { remove: [...STRIPPED_REQUEST_HEADERS] } },
        },
      ],
    },
  });

  istioObject(hostScope, 'Origination', net.DestinationRule, {
    metadata: { ...originationMetadata(o, entry.resourceName), annotations: entry.tls._annotations },
    spec: {
      host,
      // Only the gateway originates TLS: a sidecar applying this rule would wrap the application's own HTTPS again.
      exportTo: ['.'],
      workloadSelector: { matchLabels: o.gateway.selectorLabels },
      trafficPolicy: {
        portLevelSettings: [{ port: { number: o.tlsPort.number }, tls: entry.tls._renderClientTls(host, PortTlsMode) }],
      },
    },
  });
}

/**
 * The Gateway lists every host in its server, the AuthorizationPolicy twice (hosts and SNIs), the DNS EnvoyFilter
 * has one cluster patch per host: refused when one would exceed what the API server stores (M7).
 *
 * @internal
 */
export function originationSizeProblems(o: OriginationSettings, names: string[]): string[] {
  const fix = `split the ${names.length} hosts over several TlsOriginationEgress constructs`;
  return [
    objectSizeProblem(`hosts: the Gateway "${o.namespace}/${o.name}"`, hostListBytes(names, 1, 5), fix),
    objectSizeProblem(`hosts: the AuthorizationPolicy "${o.namespace}/${o.name}"`, hostListBytes(names, 2), fix),
    objectSizeProblem(`hosts: the EnvoyFilter "${o.namespace}/${dnsFilterName(o)}"`, hostListBytes(names, 1, DNS_PATCH_BYTES), fix),
  ].filter((p): p is string => p !== undefined);
}

/**
 * The gateway's Istio-built clusters for the hosts (STRICT_DNS, c-ares) would resolve each name through the pod's
 * search path first (ndots 5): `httpbin.org` as `httpbin.org.<ns>.svc.cluster.local`, i.e. a Service `httpbin` in
 * a namespace `org` anyone allowed to create it controls. Istio sets no resolver option for that
 * (`cluster_builder.go` builds `CaresDnsResolverConfig{UdpMaxQueries}` only), so each cluster gets
 * `no_default_search_domain`. The MERGE replaces the resolver's typed_config as a whole (`pkg/proto/merge`
 * copies an Any's type_url and value), hence Istio's udp_max_queries is restated.
 */
function defineDnsFilter(scope: Construct, o: OriginationSettings, hosts: () => string[]): ApiObject {
  return istioObject(scope, 'ResolveAsGiven', net.EnvoyFilter, {
    metadata: originationMetadata(o, dnsFilterName(o)),
    spec: Lazy.any({
      produce: (): net.EnvoyFilterSpec => ({
        workloadSelector: { labels: o.gateway.selectorLabels },
        priority: 10,
        configPatches: hosts().map((host) => ({
          applyTo: net.EnvoyFilterSpecConfigPatchesApplyTo.CLUSTER,
          match: {
            context: net.EnvoyFilterSpecConfigPatchesMatchContext.GATEWAY,
            cluster: { service: host, portNumber: o.tlsPort.number },
          },
          patch: {
            operation: net.EnvoyFilterSpecConfigPatchesPatchOperation.MERGE,
            value: { typed_dns_resolver_config: CARES_NO_SEARCH },
          },
        })),
      }),
    }) as any,
  });
}

function originationMetadata(o: OriginationSettings, name: string) {
  return {
    name,
    namespace: o.namespace,
    labels: libraryLabels(o.name),
  };
}

/**
 * The client ServiceEntry's `exportTo`: the clients' namespaces without the gateway's (which must see only the
 * upstream entry), or `*`.
 */
function clientExportTo(o: OriginationSettings): string[] {
  return o.exportTo.includes('*') ? ['*'] : o.exportTo.filter((ns) => ns !== '.');
}

/** Name of the gateway-only ServiceEntry (port 443). */
function upstreamEntryName(o: OriginationSettings): string {
  return dnsLabelName([o.name, 'upstream']);
}

/** Name of the EnvoyFilter that resolves the hosts without search domains. */
function dnsFilterName(o: OriginationSettings): string {
  return dnsLabelName([o.name, 'dns']);
}
