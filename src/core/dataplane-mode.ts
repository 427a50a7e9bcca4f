/**
 * How the selected pods are part of the mesh: it decides what their proxies need to reach.
 */
export enum DataplaneMode {
  /**
   * Pods with an Istio sidecar: the sidecar needs istiod (TCP 15012) for its configuration and certificates, and
   * reaches egress gateways on their pod ports.
   */
  SIDECAR = 'SIDECAR',
  /**
   * Ambient pods (no sidecar): ztunnel, not the pod, talks to istiod, so istiod is not opened; the pods reach egress
   * waypoints through ztunnel over HBONE (TCP 15008), which ztunnel sends from the pod's own network namespace, so the
   * pod's NetworkPolicy must allow it.
   */
  AMBIENT = 'AMBIENT',
}
