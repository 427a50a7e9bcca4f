import { Protocol } from './port';

/**
 * The Istio minor release the manifests are written for.
 *
 * Some features exist only from a given release on; constructs check them against this version at synth time
 * instead of emitting configuration the control plane rejects or silently ignores. The facts each construct needs
 * live here, so a version boundary is written down once:
 *
 * | feature | from | source (istio/istio `releasenotes/notes/`, change notes on istio.io) |
 * | --- | --- | --- |
 * | ServiceEntry `resolution: DYNAMIC_DNS` (wildcard hosts) at a waypoint, HTTP ports | 1.28 | `se-wildcard-host.yaml` |
 * | ... TLS ports (routed by SNI), only with istiod `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true` | 1.29 | `se-wildcard-tls-host.yaml` |
 * | ... HTTP2 and GRPC ports; DYNAMIC_DNS at sidecars (HTTP by Host, TLS by SNI) | 1.30 | `se-wildcard-host-sidecar.yaml` |
 * | `meshConfig.serviceEntryVisibility` (ambient honours it; sidecars only with `applyToSidecars`) | 1.31 | `60870-serviceentry-visibility.yaml` |
 * | Sidecar `egress[].hosts` exclusions `~ns/*`, `~/host` | 1.31 | `60139.yaml` |
 * | `istioctl analyze` IST0177: ServiceEntries with one host and port but different protocols | 1.31 | `60447.yaml` |
 * | `outboundTrafficPolicy.mode: ALLOW_ANY_DYNAMIC_DNS` (sidecars, plaintext HTTP only) | 1.31 | `allow-any-dynamic-dns.yaml` |
 * | validation warns on catch-all ServiceEntry `addresses` (`0.0.0.0`, `::`, CIDRs shorter than /8) | 1.32 | 1.32.0 change notes |
 *
 * No supported release runs `DYNAMIC_DNS` at an egress *gateway* (the dynamic forward proxy is built for sidecar
 * outbound and waypoints only; istio/istio#61831), and 1.31 and 1.32 add no DYNAMIC_DNS protocol.
 *
 * The support window is 1.30 to 1.32 (OLDEST_SUPPORTED..NEWEST_SUPPORTED): every manifest the tests synthesize is
 * checked against the CRDs of each of those releases. 1.28 and 1.29 remain for the ambient waypoint's
 * `istioVersion`, which checks wildcard hosts against them.
 *
 * @see https://istio.io/latest/news/releases/
 */
export class IstioVersion {
  /** Istio 1.28: wildcard ServiceEntries (`DYNAMIC_DNS`) for HTTP at ambient waypoints. */
  public static readonly V1_28 = new IstioVersion(28);

  /** Istio 1.29: adds wildcard TLS at waypoints behind an istiod flag. */
  public static readonly V1_29 = new IstioVersion(29);

  /** Istio 1.30: adds HTTP2/GRPC wildcard ports and wildcard ServiceEntries at sidecars. The CRDs `imports/` is generated from. */
  public static readonly V1_30 = new IstioVersion(30);

  /**
   * Istio 1.31: adds `meshConfig.serviceEntryVisibility`, Sidecar egress host exclusions (`~ns/*`), the IST0177
   * analyzer and `ALLOW_ANY_DYNAMIC_DNS`.
   */
  public static readonly V1_31 = new IstioVersion(31);

  /** Istio 1.32: warns on catch-all ServiceEntry addresses; nothing this library emits changes meaning. */
  public static readonly V1_32 = new IstioVersion(32);

  /** The oldest release in the support window (1.30). */
  public static readonly OLDEST_SUPPORTED = IstioVersion.V1_30;

  /** The newest release in the support window (1.32): the default of `MeshSettings.istioVersion`. */
  public static readonly NEWEST_SUPPORTED = IstioVersion.V1_32;

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

  /** Whether this release is in the support window (1.30 to 1.32), whose CRDs every synthesized manifest is checked against. */
  public isSupported(): boolean {
    return this.atLeast(IstioVersion.OLDEST_SUPPORTED) && IstioVersion.NEWEST_SUPPORTED.atLeast(this);
  }

  /**
   * The port protocols Istio accepts on a ServiceEntry with `resolution: DYNAMIC_DNS` bound to an ambient waypoint,
   * in this release: none before 1.28, HTTP from 1.28, TLS from 1.29 (only when istiod runs with
   * `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true`), HTTP2 and GRPC from 1.30 (unchanged in 1.31 and 1.32).
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

  /**
   * Whether sidecars route wildcard ServiceEntries with `resolution: DYNAMIC_DNS` themselves (HTTP by Host, TLS by
   * SNI, through Envoy's dynamic forward proxy): from 1.30 (release note `se-wildcard-host-sidecar`).
   */
  public sidecarDynamicDns(): boolean {
    return this.atLeast(IstioVersion.V1_30);
  }

  /**
   * Whether `meshConfig.serviceEntryVisibility` exists: from 1.31 (release note `60870-serviceentry-visibility`).
   * Ambient (ztunnel, waypoints) enforces it; sidecars only with `applyToSidecars`. It hides ServiceEntries but does
   * not block traffic: a hidden host behaves as if it had no ServiceEntry.
   */
  public serviceEntryVisibility(): boolean {
    return this.atLeast(IstioVersion.V1_31);
  }

  /**
   * Whether a Sidecar's `egress[].hosts` may exclude with a `~` prefix (`~ns/*` a namespace, `~/host` a host in
   * every namespace): from 1.31 (release note `60139`).
   */
  public sidecarEgressHostExclusions(): boolean {
    return this.atLeast(IstioVersion.V1_31);
  }

  /**
   * Whether `istioctl analyze` reports IST0177 (ConflictingServiceEntryProtocol: several ServiceEntries define one
   * host and port with different protocols): from 1.31 (release note `60447`).
   */
  public analyzesConflictingServiceEntryProtocols(): boolean {
    return this.atLeast(IstioVersion.V1_31);
  }

  /** `1.30`. */
  public toString(): string {
    return `${this.major}.${this.minor}`;
  }
}
