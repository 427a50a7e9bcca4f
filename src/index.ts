// Public API. Only re-exports: each concept has one home in its own file.
export { ExternalHost, ExternalHostOptions, HostSet } from './core/host';
export { EgressPort, EgressPortOptions, EgressPortProps, Protocol } from './core/port';
export { WorkloadIdentity, WorkloadSelector } from './core/identity';
export { MeshSettings, MeshSettingsProps } from './core/mesh';
export { EgressPathConfig, IEgressPath } from './core/egress-path';
export { EgressGateway, EgressGatewayAttributes, EgressGatewayBase, EgressGatewayProps, GatewayClientSubset, IEgressGateway } from './sidecar/egress-gateway';
export { DnsLookupFamily, SniDnsCacheOptions, WildcardEgressGateway, WildcardEgressGatewayProps } from './sidecar/wildcard-egress-gateway';
export { AmbientEgressWaypoint, AmbientEgressWaypointProps, EgressWaypointAttributes, EgressWaypointHost, EgressWaypointHostOptions, EgressWaypointHostProps, IEgressWaypoint, WaypointAllowOptions, WaypointAllowProps, WaypointHostResolution } from './ambient/ambient-egress-waypoint';
export { IstioVersion } from './core/istio-version';
export { EgressGatewayAutoscaling } from './core/workload-scaling';
export { InsecureOriginationOptions, MutualOriginationOptions, OriginationTls, SimpleOriginationOptions, TrustedCa } from './core/origination-tls';
export { OriginationHostOptions, TlsOriginationEgress, TlsOriginationEgressProps } from './sidecar/tls-origination-egress';
export { DataplaneMode, DnsResolver, DnsResolverOptions, EgressGatewayNetworkPolicy, EgressGatewayNetworkPolicyProps, EgressNetworkPolicy, EgressNetworkPolicyProps, InternalDestination } from './network-policy/egress-network-policy';
export { AllowDirection, EgressAllowEntry, RemoteGenerated, RemoteProtocol } from './allow-list/entry';
export { AllowListSkippedEntry, EgressAllowListSpec, EgressAllowListSpecOptions } from './allow-list/model';
export { EgressMatrixRow } from './allow-list/matrix';
export { EgressAllowList, EgressAllowListOptions, EgressAllowListProps } from './allow-list/egress-allow-list';
