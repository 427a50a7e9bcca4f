import { IConstruct } from 'constructs';
import { requireStruct } from '../core/boundary';
import { Cidr } from '../core/cidr';
import { fieldError, inField } from '../core/errors';

/**
 * A range the egress gateway may reach although it lies in a range excluded by default (private, CGNAT, loopback,
 * link-local or cloud metadata, NAT64, and the other non-internet ranges of `excludedCidrs`), with the reason.
 */
export interface InternalDestination {
  /** The range, e.g. `10.20.0.0/16` (a `/32` for one address). It must lie inside one of the excluded ranges. */
  readonly cidr: string;

  /**
   * Why the gateway must reach it, e.g. "S3 interface endpoint in the VPC". Recorded on the NetworkPolicy (annotation
   * `cdk8s-istio-egress/internal-destinations`).
   */
  readonly reason: string;
}

/** An internal destination, validated: inside an excluded range, of an enabled family, with a one-line reason. */
export interface ResolvedInternalDestination {
  readonly cidr: Cidr;
  readonly reason: string;
}

/** Annotation that records why a gateway may reach an otherwise excluded range. */
export const INTERNAL_DESTINATIONS_ANNOTATION = 'cdk8s-istio-egress/internal-destinations';

/**
 * Validates the `internalDestinations` of a gateway policy against its excluded ranges; each range once.
 */
export function resolveInternalDestinations(
  scope: IConstruct,
  destinations: InternalDestination[],
  excluded: Cidr[],
  ipv6: boolean,
): ResolvedInternalDestination[] {
  const internal = destinations.map((d, i) => resolveOne(scope, d, `internalDestinations[${i}]`, excluded, ipv6));
  internal.forEach((d, i) => {
    const earlier = internal.findIndex((o) => o.cidr.toString() === d.cidr.toString());
    if (earlier < i) {
      fieldError(scope, `internalDestinations[${i}].cidr`, `"${d.cidr}" is already listed at internalDestinations[${earlier}]; list each range once`);
    }
  });
  return internal;
}

function resolveOne(
  scope: IConstruct,
  destination: InternalDestination,
  field: string,
  excluded: Cidr[],
  ipv6: boolean,
): ResolvedInternalDestination {
  const d = inField(scope, field, () => requireStruct<InternalDestination>(destination, 'InternalDestination'));
  const cidr = inField(scope, `${field}.cidr`, () => Cidr.parse(d.cidr));
  if (typeof d.reason !== 'string' || d.reason.trim().length === 0) {
    fieldError(scope, `${field}.reason`, `opening "${cidr}" needs a reason (e.g. "S3 interface endpoint in the VPC"): it is recorded on the NetworkPolicy for review`);
  }
  if (/[\r\n]/.test(d.reason)) {
    fieldError(scope, `${field}.reason`, 'write the reason on one line');
  }
  if (cidr.family === 6 && !ipv6) {
    fieldError(scope, `${field}.cidr`, `"${cidr}" is IPv6, but the gateway gets no IPv6 egress (ipv6 is false); set ipv6 to true first`);
  }
  if (!excluded.some((r) => r.contains(cidr))) {
    fieldError(
      scope,
      `${field}.cidr`,
      `"${cidr}" is not inside an excluded range (${excluded.filter((r) => r.family === cidr.family).join(', ')}): the gateway may reach it on its external ports already. ` +
        'List only internal ranges, one by one',
    );
  }
  return { cidr, reason: d.reason.trim() };
}
