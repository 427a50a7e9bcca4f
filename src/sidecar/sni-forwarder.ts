import { ResolvedDnsCache } from './sni-dns-cache';
import * as net from '../../imports/networking.istio.io';
import { EgressPort } from '../core/port';

const TCP_PROXY = 'envoy.filters.network.tcp_proxy';

/** Envoy's TCP proxy network filter with `config` (a whole filter, or the part of one a MERGE patch sets). */
function tcpProxy(config: { [key: string]: unknown }): { name: string; typed_config: { [key: string]: unknown } } {
  return { name: TCP_PROXY, typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', ...config } };
}

/**
 * Filter state the gateway's listener hands to the SNI forwarder, so the forwarder's log line names the client:
 * its Istio mTLS identity (`%DOWNSTREAM_PEER_URI_SAN%`, known once the TLS handshake is done) and its address
 * (`%DOWNSTREAM_REMOTE_ADDRESS%`, the pod IP and port). Our own keys only: nothing sets an `envoy.*` key such as
 * `envoy.upstream.dynamic_host` or `envoy.upstream.dynamic_port`, which the SNI forwarder would obey
 * (`sni_dynamic_forward_proxy/proxy_filter.cc`), so host and port stay pinned to the SNI and `port_value`.
 */
const CLIENT_IDENTITY_KEY = 'cdk8s-istio-egress.client_identity';
const CLIENT_ADDRESS_KEY = 'cdk8s-istio-egress.client_address';

/** The SNI cluster's transport: raw bytes, plus the filter state shared with the upstream connection. */
const INTERNAL_UPSTREAM_TRANSPORT = {
  name: 'envoy.transport_sockets.internal_upstream',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport',
    'transport_socket': {
      name: 'envoy.transport_sockets.raw_buffer',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' },
    },
  },
};

/**
 * Connection timeout and limits of the clusters the EnvoyFilter adds, as Istio sets them on its own clusters (10 s
 * connect timeout, limits at the maximum): Envoy's defaults (1024 connections and pending requests per cluster) would
 * reset connections beyond about a thousand per gateway pod. The gateway's CPU and memory are the real bound.
 */
const CLUSTER_LIMITS = {
  connect_timeout: '10s',
  circuit_breakers: {
    thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295 }],
  },
};

/** What the SNI forwarder of a WildcardEgressGateway is built from. @internal */
export interface SniForwarderSpec {
  /** Base name of the construct's resources: the Envoy names (clusters, listeners, DNS cache) are `<name>_<suffix>`. */
  readonly name: string;
  /** The gateway's service name, the SNI its clients present: selects this construct's own server chain. */
  readonly gatewayFqdn: string;
  /** The TLS ports applications connect to, each forwarded to the same port outside. */
  readonly ports: number[];
  /** The gateway port used for each of `ports`. */
  readonly gatewayPorts: EgressPort[];
  /** The allow-list, sorted: the forwarder's `server_names`. */
  readonly hosts: string[];
  readonly dnsCache: ResolvedDnsCache;
  /** Log every connection, naming the client (its identity and address). */
  readonly accessLogging: boolean;
  /** Apply only to gateway proxies whose version matches this RE2. */
  readonly proxyVersion?: string;
}

/** The EnvoyFilter patches that build the SNI forwarder of a WildcardEgressGateway. @internal */
export function sniForwarderPatches(spec: SniForwarderSpec): net.EnvoyFilterSpecConfigPatches[] {
  const { dnsCache, accessLogging, proxyVersion } = spec;
  const envoyName = (suffix: string) => `${spec.name}_${suffix}`;
  const match = (extra: Omit<net.EnvoyFilterSpecConfigPatchesMatch, 'context' | 'proxy'> = {}): net.EnvoyFilterSpecConfigPatchesMatch => ({
    context: net.EnvoyFilterSpecConfigPatchesMatchContext.GATEWAY,
    proxy: proxyVersion === undefined ? undefined : { proxyVersion },
    ...extra,
  });
  const dnsCacheConfig = {
    name: envoyName('dns_cache'),
    dns_lookup_family: dnsCache.lookupFamily,
    // Resolve the SNI name as given: never through the pod's search domains (`en.wikipedia.org` must not first
    // resolve as `en.wikipedia.org.<ns>.svc.cluster.local`, a name anyone who can create namespace `org` controls).
    typed_dns_resolver_config: {
      name: 'envoy.network.dns_resolver.cares',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
        'dns_resolver_options': { no_default_search_domain: true },
      },
    },
    max_hosts: dnsCache.maxHosts,
    host_ttl: dnsCache.hostTtl,
    dns_cache_circuit_breaker: { max_pending_requests: dnsCache.maxPendingRequests },
  };
  const dfpCluster = envoyName('dynamic_forward_proxy_cluster');
  const patches: net.EnvoyFilterSpecConfigPatches[] = [
    {
      // The upstream side: connects to the host the SNI forwarder resolved.
      applyTo: net.EnvoyFilterSpecConfigPatchesApplyTo.CLUSTER,
      match: match(),
      patch: {
        operation: net.EnvoyFilterSpecConfigPatchesPatchOperation.ADD,
        value: {
          name: dfpCluster,
          ...CLUSTER_LIMITS,
          lb_policy: 'CLUSTER_PROVIDED',
          cluster_type: {
            name: 'envoy.clusters.dynamic_forward_proxy',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig',
              'dns_cache_config': dnsCacheConfig,
            },
          },
        },
      },
    },
  ];
  spec.ports.forEach((externalPort, i) => {
    const gatewayPort = spec.gatewayPorts[i];
    const sniCluster = envoyName(`sni_cluster_${externalPort}`);
    const sniListener = envoyName(`sni_listener_${externalPort}`);
    patches.push(
      {
        // An internal cluster that hands the decrypted-from-mTLS stream to the internal SNI listener.
        applyTo: net.EnvoyFilterSpecConfigPatchesApplyTo.CLUSTER,
        match: match(),
        patch: {
          operation: net.EnvoyFilterSpecConfigPatchesPatchOperation.ADD,
          value: {
            name: sniCluster,
            ...CLUSTER_LIMITS,
            // With logging, passes the filter state the listener shares with its upstream (the client's identity
            // and address) to the internal listener's connection; no metadata passthrough.
            transport_socket: accessLogging ? INTERNAL_UPSTREAM_TRANSPORT : undefined,
            load_assignment: {
              cluster_name: sniCluster,
              endpoints: [{ lb_endpoints: [{ endpoint: { address: { envoy_internal_address: { server_listener_name: sniListener } } } }] }],
            },
          },
        },
      },
      {
        // The internal listener (reachable from nothing but sniCluster) that reads the application's SNI and
        // forwards only allowed names.
        applyTo: net.EnvoyFilterSpecConfigPatchesApplyTo.LISTENER,
        match: match(),
        patch: {
          operation: net.EnvoyFilterSpecConfigPatchesPatchOperation.ADD,
          value: {
            name: sniListener,
            internal_listener: {},
            listener_filters: [
              {
                name: 'envoy.filters.listener.tls_inspector',
                typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
              },
            ],
            filter_chains: [
              {
                filter_chain_match: { server_names: [...spec.hosts] },
                filters: [
                  {
                    name: 'envoy.filters.network.sni_dynamic_forward_proxy',
                    typed_config: {
                      '@type': 'type.googleapis.com/envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig',
                      'port_value': externalPort,
                      'dns_cache_config': dnsCacheConfig,
                    },
                  },
                  tcpProxy({
                    stat_prefix: envoyName(`sni_forwarder_${externalPort}`),
                    cluster: dfpCluster,
                    access_log: accessLogging ? [accessLog()] : undefined,
                  }),
                ],
              },
            ],
          },
        },
      },
      {
        // Point the gateway listener's tcp_proxy (after Istio mTLS termination) at the SNI forwarder. Scoped to
        // this gateway's listener port and to this construct's own server's filter chain (its SNI, the gateway
        // host): another Gateway's server on the same pods and port has its own chain, which must not be rewritten
        // (finding X1; Istio's patcher compares `filterChain.sni` with the chain's server_names,
        // pilot/pkg/networking/core/envoyfilter/listener_patch.go filterChainMatch).
        applyTo: net.EnvoyFilterSpecConfigPatchesApplyTo.NETWORK_UNDERSCORE_FILTER,
        match: match({
          listener: {
            portNumber: gatewayPort.podPort,
            filterChain: { sni: spec.gatewayFqdn, filter: { name: TCP_PROXY } },
          },
        }),
        patch: {
          operation: net.EnvoyFilterSpecConfigPatchesPatchOperation.MERGE,
          value: tcpProxy({ cluster: sniCluster }),
        },
      },
    );
    if (accessLogging) {
      patches.push(...clientAttributionPatches(spec.gatewayFqdn, gatewayPort, proxyVersion));
    }
  });
  return patches;
}

/**
 * Patches that let the forwarder's log line name the client (finding L6): on the construct's own server chain
 * (the gateway port, SNI = the gateway's name, as sidecars present it), a set_filter_state filter before the
 * tcp_proxy records the client's identity and address, shared with the upstream connection once; the tcp_proxy
 * waits for the TLS handshake before connecting, so the identity is known when the internal connection (which
 * receives that state, see the SNI cluster's transport socket) is made.
 */
function clientAttributionPatches(gatewayFqdn: string, gatewayPort: EgressPort, proxyVersion?: string): net.EnvoyFilterSpecConfigPatches[] {
  const match: net.EnvoyFilterSpecConfigPatchesMatch = {
    context: net.EnvoyFilterSpecConfigPatchesMatchContext.GATEWAY,
    proxy: proxyVersion === undefined ? undefined : { proxyVersion },
    listener: {
      portNumber: gatewayPort.targetPort ?? gatewayPort.number,
      filterChain: { sni: gatewayFqdn, filter: { name: TCP_PROXY } },
    },
  };
  const value = (key: string, format: string) => ({
    object_key: key,
    factory_key: 'envoy.string',
    format_string: { text_format_source: { inline_string: format } },
    shared_with_upstream: 'ONCE',
  });
  return [
    {
      applyTo: net.EnvoyFilterSpecConfigPatchesApplyTo.NETWORK_UNDERSCORE_FILTER,
      match,
      patch: {
        operation: net.EnvoyFilterSpecConfigPatchesPatchOperation.INSERT_UNDERSCORE_BEFORE,
        value: {
          name: 'envoy.filters.network.set_filter_state',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config',
            'on_new_connection': [value(CLIENT_ADDRESS_KEY, '%DOWNSTREAM_REMOTE_ADDRESS%')],
            'on_downstream_tls_handshake': [value(CLIENT_IDENTITY_KEY, '%DOWNSTREAM_PEER_URI_SAN%')],
          },
        },
      },
    },
    {
      applyTo: net.EnvoyFilterSpecConfigPatchesApplyTo.NETWORK_UNDERSCORE_FILTER,
      match,
      patch: {
        operation: net.EnvoyFilterSpecConfigPatchesPatchOperation.MERGE,
        value: tcpProxy({ upstream_connect_mode: 'ON_DOWNSTREAM_TLS_HANDSHAKE' }),
      },
    },
  ];
}

/** The SNI forwarder's access log: what a TCP connection has (no HTTP fields). */
function accessLog() {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      'path': '/dev/stdout',
      'log_format': {
        text_format_source: {
          inline_string:
            `[%START_TIME%] sni-forwarder %REQUESTED_SERVER_NAME% "%FILTER_STATE(${CLIENT_IDENTITY_KEY}:PLAIN)%" ` +
            `%FILTER_STATE(${CLIENT_ADDRESS_KEY}:PLAIN)% %RESPONSE_FLAGS% %CONNECTION_TERMINATION_DETAILS% ` +
            '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "%UPSTREAM_HOST%" ' +
            '%UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS%\n',
        },
      },
    },
  };
}
