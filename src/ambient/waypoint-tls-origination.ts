import { ApiObject } from 'cdk8s';
import type { EgressWaypointHost } from './waypoint-host';
import { DestinationRule, DestinationRuleSpecTrafficPolicyTlsMode } from '../../imports/networking.istio.io';
import { requireInstance } from '../core/boundary';
import { fieldError, inField } from '../core/errors';
import { istioObject } from '../core/istio-object';
import { OriginationTls } from '../core/origination-tls';
import { libraryLabels } from '../core/visibility';

/**
 * Checks a TLS origination for a host of a waypoint, which reads `credentialName` Secrets from its own namespace.
 *
 * @internal
 */
export function validateWaypointTls(host: EgressWaypointHost, tls: OriginationTls): OriginationTls {
  inField(host, 'tlsOrigination', () => requireInstance(tls, OriginationTls, 'OriginationTls.simple()'));
  const namespace = host.waypoint.namespace;
  if (tls.presentsClientCertificate) {
    fieldError(
      host,
      'tlsOrigination',
      `${tls} cannot be originated at a waypoint: Istio reads the client certificate Secret (credentialName) from the waypoint's namespace ("${namespace}"), ` +
        'and istiod hands its private key only to a proxy whose service account may read the Secrets there, which Istio does not grant the waypoints it deploys ' +
        '(granting it would let every namespace bound to the waypoint make it present the certificate); originate mutual TLS at an egress gateway ' +
        '(TlsOriginationEgress with OriginationTls.mutual), or verify the server only with OriginationTls.simple',
    );
  }
  inField(host, 'tlsOrigination', () => tls._validate({ namespace, kind: 'waypoint' }));
  return tls;
}

/**
 * Defines the DestinationRule that makes the waypoint originate TLS to `host`: `sni` and `subjectAltNames` = the
 * host, the CA as `tls` says, exported only to the namespaces that use it.
 *
 * @internal
 */
export function addWaypointTlsOrigination(host: EgressWaypointHost, tls: OriginationTls, name: string, exportTo: string[]): ApiObject {
  host.waypoint._claimName(host, 'tlsOrigination', 'DestinationRule', host.namespace, name);
  return istioObject(host, 'TlsOrigination', DestinationRule, {
    metadata: { name, namespace: host.namespace, labels: libraryLabels(host.waypoint.name), annotations: tls._annotations },
    spec: {
      host: host.host.name,
      exportTo,
      trafficPolicy: { tls: tls._renderClientTls(host.host.name, DestinationRuleSpecTrafficPolicyTlsMode) },
    },
  });
}
