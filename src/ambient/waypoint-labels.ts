/**
 * The labels Istio reads on ambient egress objects: one home for their names.
 *
 * @see https://istio.io/latest/docs/ambient/usage/waypoint/
 */

/** Label on a Service / ServiceEntry that sends its traffic through the named waypoint. */
export const USE_WAYPOINT = 'istio.io/use-waypoint';

/** Label naming the waypoint's namespace when it differs from the labelled resource's (Istio >= 1.23). */
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';

/** Label on a waypoint Gateway that says which traffic it handles. */
export const WAYPOINT_FOR = 'istio.io/waypoint-for';

/** Label on a namespace that enrols its pods in ambient mode. */
export const DATAPLANE_MODE = 'istio.io/dataplane-mode';

/** Label Istio puts on the pods it deploys for a Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** Kubernetes' immutable namespace name label. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
