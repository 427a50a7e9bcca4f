/**
 * The inputs of a TLS origination (`TlsOriginationEgress`) that need checks beyond their type: the gateway port
 * that receives the requests, and the clients allowed through (never in the gateway's own namespace).
 */
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { IEgressGateway } from './egress-gateway-base';
import { requireArray, requireInstance } from '../core/boundary';
import { fieldError, inField } from '../core/errors';
import { WorkloadIdentity } from '../core/identity';
import { EgressPort, Protocol, validatePortNumber } from '../core/port';

/**
 * Picks and claims the gateway port of `scope` (the origination) that receives the requests.
 *
 * @internal
 */
export function claimGatewayPort(scope: Construct, gateway: IEgressGateway, requested: number | undefined): EgressPort {
  const gw = `egress gateway ${gateway.namespace}/${gateway.serviceName}`;
  let number: number;
  if (requested !== undefined) {
    number = inField(scope, 'gatewayPort', () => validatePortNumber(requested, 'gateway port'));
  } else {
    const http = gateway.ports.filter(isHttpFamily);
    if (http.length === 0) {
      fieldError(
        scope,
        'gateway',
        `${gw} has no HTTP port to receive the requests on (its ports: ${gateway.ports.join(', ')}); sidecars send plain HTTP ` +
          'inside Istio mTLS to the gateway, so give it one (e.g. from EgressPort.http with 80) and pass gatewayPort',
      );
    }
    if (http.length > 1) {
      fieldError(scope, 'gatewayPort', `${gw} has several HTTP ports (${http.map((p) => p.number).join(', ')}); choose the one to use with gatewayPort`);
    }
    number = http[0].number;
  }
  const port = inField(scope, 'gatewayPort', () => gateway.findPort(number));
  if (!isHttpFamily(port)) {
    fieldError(
      scope,
      'gatewayPort',
      `gateway port ${port} is not HTTP: sidecars send plain HTTP inside Istio mTLS to the gateway, so it needs an HTTP port (e.g. from EgressPort.http with ${number})`,
    );
  }
  return inField(scope, 'gatewayPort', () => gateway.claimPort(number, scope));
}

/**
 * The identities allowed to send requests through `scope` (the origination): `allowFrom`, or every workload of the
 * chart's namespace.
 *
 * @internal
 */
export function allowedClients(scope: Construct, allowFrom: WorkloadIdentity[] | undefined): WorkloadIdentity[] {
  if (allowFrom === undefined) {
    const namespace = Chart.of(scope).namespace;
    if (namespace === undefined) {
      fieldError(
        scope,
        'allowFrom',
        'the chart has no namespace, so the calling workloads are unknown; pass allowFrom (e.g. a list with WorkloadIdentity.allInNamespace for "apps") or give the chart a namespace',
      );
    }
    return [inField(scope, 'allowFrom', () => WorkloadIdentity.allInNamespace(namespace))];
  }
  const identities = inField(scope, 'allowFrom', () =>
    requireArray(allowFrom, { element: 'a WorkloadIdentity', each: (i) => requireInstance(i, WorkloadIdentity, 'WorkloadIdentity.serviceAccount("shop", "checkout")') }),
  );
  if (identities.length === 0) {
    fieldError(scope, 'allowFrom', 'an empty list would allow nobody; omit it to allow the chart\'s namespace, or list identities');
  }
  return identities;
}

/**
 * Refuses clients in the gateway's namespace: they would need the client ServiceEntry (port 80) exported to that
 * namespace, where the gateway would see it beside the upstream one and might keep the wrong one.
 *
 * @internal
 */
export function rejectClientsInGatewayNamespace(scope: Construct, identities: WorkloadIdentity[], namespace: string, defaulted: boolean): void {
  const i = identities.findIndex((identity) => !identity.isAnyInMesh && identity.namespace === namespace);
  if (i < 0) {
    return;
  }
  fieldError(
    scope,
    defaulted ? 'allowFrom' : `allowFrom[${i}]`,
    `${defaulted ? 'the default client namespace (the chart\'s)' : 'the identity'} is the gateway's namespace "${namespace}": ` +
      'that namespace sees the gateway-only ServiceEntry of the hosts\' TLS port, so applications there cannot be clients. ' +
      'Run the applications in another namespace and list it in allowFrom',
  );
}

function isHttpFamily(port: EgressPort): boolean {
  return port.protocol === Protocol.HTTP || port.protocol === Protocol.HTTP2;
}
