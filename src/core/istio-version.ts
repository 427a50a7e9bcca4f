import { Protocol } from './port';

/**
 * The Istio minor release the manifests are written for.
 *
 * Some features exist only from a given release on; constructs check them against this version at synth time
 * instead of emitting configuration the control plane rejects or silently ignores. The facts each construct needs
 * live here, so a version boundary is written down once:
 *
 * | feature | from |
 * | --- | --- |
 * | ServiceEntry `resolution: DYNAMIC_DNS` (wildcard hosts) at a waypoint, HTTP ports | 1.28 |
 * | ... TLS ports (routed by SNI), only with istiod `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true` | 1.29 |
 * | ... HTTP2 and GRPC ports; DYNAMIC_DNS at sidecars | 1.30 |
 *
 * @see https://istio.io/latest/news/releases/
 */
export class IstioVersion {
  /** Istio 1.28: wildcard ServiceEntries (`DYNAMIC_DNS`) for HTTP at ambient waypoints. */
  public static readonly V1_28 = new IstioVersion(28);

  /** Istio 1.29: adds wildcard TLS at waypoints behind an istiod flag. */
  public static readonly V1_29 = new IstioVersion(29);

  /** Istio 1.30: adds HTTP2/GRPC wildcard ports and wildcard ServiceEntries at sidecars. The CRDs this library is built against. */
  public static readonly V1_30 = new IstioVersion(30);

  /** Istio 1.31. */
  public static readonly V1_31 = new IstioVersion(31);

  /** The major version (1). */
  public readonly major: number;

  /** The minor version, e.g. 30 for 1.30. */
  public readonly minor: number;

  private constructor(minor: number) {
    this.major = 1;
    this.minor = minor;
  }

  /** Whether this release is `other` or newer. */
  public atLeast(other: IstioVersion): boolean {
    return this.major > other.major || (this.major === other.major && this.minor >= other.minor);
  }

  /**
   * The port protocols Istio accepts on a ServiceEntry with `resolution: DYNAMIC_DNS` bound to an ambient waypoint,
   * in this release: none before 1.28, HTTP from 1.28, TLS from 1.29 (only when istiod runs with
   * `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true`), HTTP2 and GRPC from 1.30.
   */
  public waypointDynamicDnsProtocols(): Protocol[] {
    const protocols: Protocol[] = [];
    if (this.atLeast(IstioVersion.V1_28)) {
      protocols.push(Protocol.HTTP);
    }
    if (this.atLeast(IstioVersion.V1_29)) {
      protocols.push(Protocol.TLS);
    }
    if (this.atLeast(IstioVersion.V1_30)) {
      protocols.push(Protocol.HTTP2, Protocol.GRPC);
    }
    return protocols;
  }

  /** `1.30`. */
  public toString(): string {
    return `${this.major}.${this.minor}`;
  }
}
