/**
 * The proxy pods an egress path goes through, and the ports on both sides, as a NetworkPolicy needs them.
 *
 * Returned by `IEgressPath.toEgressPathConfig()`, so a NetworkPolicy construct can let application pods reach
 * exactly those pods on exactly those ports, and let those pods reach the outside only on the ports they forward to,
 * without a namespace, label or port being typed twice.
 */
export interface EgressPathConfig {
  /** Namespace of the proxy pods (egress gateway or waypoint) that clients send egress traffic to. */
  readonly namespace: string;

  /** Labels that select exactly those pods. */
  readonly podLabels: { [key: string]: string };

  /**
   * The ports clients connect to on those pods. These are pod (container) ports, which is what NetworkPolicies
   * match: a Service port 443 that targets 8443 appears as 8443.
   */
  readonly podPorts: number[];

  /** The ports those pods connect to outside the cluster (e.g. 443). Empty when the path does not say. */
  readonly externalPorts: number[];
}

/**
 * Something egress traffic goes through: an egress gateway, a construct routing through one, or an egress waypoint.
 */
export interface IEgressPath {
  /** The pods and ports of this path. */
  toEgressPathConfig(): EgressPathConfig;
}

/**
 * The port ztunnel (and sidecars, in ambient mode) tunnel traffic to a waypoint over: HBONE, HTTP CONNECT over mTLS.
 * Fixed by Istio (`pilot/pkg/model/listener.go`: `HBoneInboundListenPort = 15008`). A path whose pod ports include it is
 * reached over HBONE, which is how a NetworkPolicy tells a waypoint from a sidecar egress gateway.
 *
 * One home for the constant: the waypoint and the NetworkPolicies read it from here.
 *
 * @internal
 */
export const HBONE_PORT = 15008;
