/**
 * The Istio ambient "controlling mesh egress" walkthrough: an egress waypoint in its own namespace, httpbin.org
 * registered behind it, TLS originated at the waypoint (the application calls http://httpbin.org, the request leaves
 * the cluster as https://httpbin.org), and two allow rules: the `admin` service account may do anything on
 * httpbin.org, every other workload of the mesh only `GET /get`.
 *
 * @see https://istio.io/latest/docs/ambient/usage/egress-gateway/
 */
import { AmbientEgressWaypoint, EgressPort, OriginationTls, WorkloadIdentity } from 'cdk8s-istio-egress';
import { Construct } from 'constructs';

/** Defines the example's resources in `scope` and returns the waypoint. */
export function defineAmbientEgress(scope: Construct): AmbientEgressWaypoint {
  // The waypoint the walkthrough creates with `istioctl waypoint apply --enroll-namespace`.
  const waypoint = new AmbientEgressWaypoint(scope, 'Waypoint', {
    namespace: 'common-infrastructure',
    name: 'egress-gateway',
  });

  // Applications keep calling http://httpbin.org (port 80); the waypoint sends it to 443 over TLS and checks that
  // the server's certificate is valid for httpbin.org.
  const httpbin = waypoint.addHost('httpbin.org', {
    ports: [EgressPort.http(80, { targetPort: 443 })],
    tlsOrigination: OriginationTls.simple(),
  });

  // "Our admin application can access anything"
  httpbin.allow('admin', { identities: [WorkloadIdentity.serviceAccount('default', 'admin')] });
  // "Everything else is only allowed to access /get"
  httpbin.allow('get-only', { identities: [WorkloadIdentity.anyInMesh()], methods: ['GET'], paths: ['/get'] });

  return waypoint;
}
