// Public API. Only re-exports: each concept has one home in its own file.
export { ExternalHost, ExternalHostOptions, HostSet } from './host';
export { EgressPort, EgressPortOptions, EgressPortProps, Protocol } from './port';
export { WorkloadIdentity, WorkloadSelector } from './identity';
export { MeshSettings, MeshSettingsProps } from './mesh';
export { EgressPathConfig, IEgressPath } from './egress-path';
export { EgressGateway, EgressGatewayAttributes, EgressGatewayAutoscaling, EgressGatewayBase, EgressGatewayProps, GatewayClientSubset, IEgressGateway } from './egress-gateway';
export { DnsLookupFamily, SniDnsCacheOptions, WildcardEgressGateway, WildcardEgressGatewayProps } from './wildcard-egress-gateway';
export { AmbientEgressWaypoint, AmbientEgressWaypointProps, EgressWaypointAttributes, EgressWaypointHost, EgressWaypointHostOptions, EgressWaypointHostProps, IEgressWaypoint, WaypointAllowOptions, WaypointAllowProps, WaypointHostResolution } from './ambient-egress-waypoint';
export { IstioVersion } from './istio-version';
export { InsecureOriginationOptions, MutualOriginationOptions, OriginationTls, SimpleOriginationOptions, TrustedCa } from './origination-tls';
export { OriginationHostOptions, TlsOriginationEgress, TlsOriginationEgressProps } from './tls-origination-egress';
export { DataplaneMode, DnsResolver, DnsResolverOptions, EgressGatewayNetworkPolicy, EgressGatewayNetworkPolicyProps, EgressNetworkPolicy, EgressNetworkPolicyProps, InternalDestination } from './egress-network-policy';
