import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { requireStruct } from '../core/boundary';
import { checkDuration, checkEnum, checkUint32 } from '../core/bounds';
import { inField } from '../core/errors';

/**
 * Which IP families the SNI forwarder's DNS cache resolves (Envoy `dns_lookup_family`).
 *
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#enum-config-cluster-v3-cluster-dnslookupfamily
 */
export enum DnsLookupFamily {
  /** IPv4 only (what Istio's own dynamic-forward-proxy builders use). */
  V4_ONLY = 'V4_ONLY',
  /** IPv6 only. */
  V6_ONLY = 'V6_ONLY',
  /** IPv4 if available, else IPv6. */
  V4_PREFERRED = 'V4_PREFERRED',
  /** IPv6 if available, else IPv4. */
  AUTO = 'AUTO',
  /** Both, IPv4 and IPv6 addresses. */
  ALL = 'ALL',
}

/**
 * Bounds of the DNS cache of the SNI forwarder (Envoy `dns_cache_config`). Every distinct allowed host name that
 * clients connect to takes an entry; the bounds keep a client that connects to many names from exhausting the
 * gateway.
 *
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/common/dynamic_forward_proxy/v3/dns_cache.proto
 */
export interface SniDnsCacheOptions {
  /**
   * Most host names the cache holds; connections to further names fail until entries expire. 1..4294967295 (uint32).
   *
   * @default 1024
   */
  readonly maxHosts?: number;

  /**
   * Most DNS lookups in flight at once (`dns_cache_circuit_breaker.max_pending_requests`). 1..4294967295 (uint32).
   *
   * @default 1024
   */
  readonly maxPendingRequests?: number;

  /**
   * How long an unused host stays in the cache: whole milliseconds, from 1 second to protobuf's maximum Duration
   * (315576000000 seconds).
   *
   * @default Duration.minutes(5)
   */
  readonly hostTtl?: Duration;

  /**
   * IP families to resolve.
   *
   * @default DnsLookupFamily.V4_ONLY
   */
  readonly lookupFamily?: DnsLookupFamily;
}

/** DNS cache options with defaults applied. @internal */
export interface ResolvedDnsCache {
  readonly maxHosts: number;
  readonly maxPendingRequests: number;
  /** As protobuf JSON, e.g. `300s`. */
  readonly hostTtl: string;
  readonly lookupFamily: DnsLookupFamily;
}

/** Checks the given DNS cache options (errors name `dnsCache...` fields of scope) and applies the defaults. @internal */
export function resolveDnsCache(scope: IConstruct, given: SniDnsCacheOptions | undefined): ResolvedDnsCache {
  const options = given === undefined ? {} : inField(scope, 'dnsCache', () => requireStruct<SniDnsCacheOptions>(given, 'SniDnsCacheOptions'));
  const hostTtl = options.hostTtl ?? Duration.minutes(5);
  return {
    maxHosts: inField(scope, 'dnsCache.maxHosts', () => checkUint32(options.maxHosts ?? 1024, 'maxHosts')),
    maxPendingRequests: inField(scope, 'dnsCache.maxPendingRequests', () => checkUint32(options.maxPendingRequests ?? 1024, 'maxPendingRequests')),
    hostTtl: inField(scope, 'dnsCache.hostTtl', () => checkDuration(hostTtl, 'hostTtl', 1)),
    lookupFamily: inField(scope, 'dnsCache.lookupFamily', () => checkEnum(options.lookupFamily ?? DnsLookupFamily.V4_ONLY, DnsLookupFamily, 'DnsLookupFamily', 'lookupFamily')),
  };
}
