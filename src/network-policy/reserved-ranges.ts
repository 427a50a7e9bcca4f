import { Cidr } from '../core/cidr';

/**
 * Address ranges that are not the internet: what an egress gateway must never reach on its external ports, and where
 * a DNS resolver may be without the size limits of public ranges. Internal.
 */

/**
 * IPv4 ranges the gateway may not reach, by default: private, CGNAT, loopback, link-local (cloud metadata), Azure's
 * platform address, and the special-purpose ranges of RFC 6890 that are not the internet.
 */
export const EXCLUDED_IPV4: readonly string[] = [
  '0.0.0.0/8', // RFC 1122 "this host on this network": 0.0.0.0 reaches the local host on Linux
  '10.0.0.0/8', // RFC 1918 private
  '100.64.0.0/10', // RFC 6598 carrier-grade NAT; also pod ranges of some clusters; Alibaba metadata 100.100.100.200
  '127.0.0.0/8', // loopback
  '168.63.129.16/32', // Azure WireServer (platform DNS, health probes, VM agent)
  '169.254.0.0/16', // link-local: cloud metadata 169.254.169.254 (AWS, GCP, Azure, OCI), AWS DNS and time, NodeLocal DNSCache
  '172.16.0.0/12', // RFC 1918 private
  '192.0.0.0/24', // RFC 6890 IETF protocol assignments (DS-Lite, NAT64 discovery); not the internet
  '192.168.0.0/16', // RFC 1918 private
  '198.18.0.0/15', // RFC 2544 benchmarking; used inside some VPCs and appliances
  '240.0.0.0/4', // reserved (class E) and broadcast: GKE class E pod ranges, Istio's auto-allocated ServiceEntry VIPs 240.240.0.0/16
];

/** IPv6 ranges the gateway may not reach (with `ipv6`), by default. */
export const EXCLUDED_IPV6: readonly string[] = [
  '::1/128', // loopback
  '64:ff9b::/96', // RFC 6052 well-known NAT64 prefix: with DNS64/NAT64, 64:ff9b::a9fe:a9fe is 169.254.169.254 through the NAT64 gateway
  '64:ff9b:1::/48', // RFC 8215 local-use NAT64: may translate to private IPv4 addresses
  'fc00::/7', // unique local addresses; AWS metadata fd00:ec2::254
  'fe80::/10', // link-local
];

/**
 * IPv6 prefixes whose addresses a NAT64 gateway translates to IPv4 addresses: a range inside them is as wide as the
 * IPv4 addresses it can stand for, not as its IPv6 prefix length says.
 */
export const NAT64_PREFIXES: readonly string[] = ['64:ff9b::/96', '64:ff9b:1::/48'];

/** `EXCLUDED_IPV4` parsed (a `Cidr` is immutable, so the lists are parsed once). */
export const EXCLUDED_IPV4_RANGES: readonly Cidr[] = Object.freeze(EXCLUDED_IPV4.map((c) => Cidr.parse(c)));
/** `EXCLUDED_IPV6` parsed. */
export const EXCLUDED_IPV6_RANGES: readonly Cidr[] = Object.freeze(EXCLUDED_IPV6.map((c) => Cidr.parse(c)));
const NAT64_RANGES: readonly Cidr[] = Object.freeze(NAT64_PREFIXES.map((c) => Cidr.parse(c)));
const NON_PUBLIC_RANGES: readonly Cidr[] = Object.freeze(
  [...EXCLUDED_IPV4, ...EXCLUDED_IPV6.filter((c) => !NAT64_PREFIXES.includes(c))].map((c) => Cidr.parse(c)),
);

/** Ranges not routed to the internet: the excluded ranges except the NAT64 prefixes (which reach IPv4 hosts anywhere). */
export function nonPublicRanges(): readonly Cidr[] {
  return NON_PUBLIC_RANGES;
}

/** Whether `cidr` overlaps a NAT64 prefix. */
export function overlapsNat64(cidr: Cidr): boolean {
  return NAT64_RANGES.some((p) => p.overlaps(cidr));
}
