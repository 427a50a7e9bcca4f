import { ApiObject, Chart, Size, Testing } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { EgressGateway, EgressPort, MeshSettings, Protocol } from '../src';
import { synthValid } from './schema';

const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: any[], kind: string) => {
  const found = byKind(objects, kind);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('EgressGateway | defaults', () => {
  test('snapshot: a hardened, highly available gateway with a dedicated service account', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const gateway = new EgressGateway(chart, 'gw');
    // THEN
    const objects = synthValid(chart);
    expect(objects).toMatchSnapshot();
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'Deployment', 'Service', 'PodDisruptionBudget']);
    const deployment = one(objects, 'Deployment');
    expect(deployment.metadata).toMatchObject({ name: 'egress-gateway', namespace: 'istio-egress' });
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template;
    expect(pod.metadata.annotations).toEqual({ 'inject.istio.io/templates': 'gateway' });
    expect(pod.metadata.labels['sidecar.istio.io/inject']).toBe('true');
    expect(pod.spec.serviceAccountName).toBe('egress-gateway');
    expect(pod.spec.containers[0]).toMatchObject({
      name: 'istio-proxy',
      image: 'auto',
      ports: [{ containerPort: 8443, name: 'tls-443' }],
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    });
    expect(pod.spec.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(one(objects, 'Service').spec).toMatchObject({ type: 'ClusterIP', ports: [{ name: 'tls-443', port: 443, targetPort: 8443 }] });
    expect(one(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(1);
    // no RBAC unless asked
    expect(byKind(objects, 'Role')).toHaveLength(0);
    expect(gateway.serviceFqdn).toBe('egress-gateway.istio-egress.svc.cluster.local');
    expect(gateway.identity!.principal()).toBe('cluster.local/ns/istio-egress/sa/egress-gateway');
  });

  test('the selector labels select only this gateway (name and namespace) and match the pods', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { namespace: 'egress-a', name: 'edge' });
    const objects = synthValid(chart);
    // one label, unique to this gateway: no generic `istio: <name>` that Gateways of other namespaces could select
    expect(gateway.selectorLabels).toEqual({ 'cdk8s-istio-egress/gateway': 'edge.egress-a' });
    expect(one(objects, 'Deployment').spec.selector.matchLabels).toEqual(gateway.selectorLabels);
    expect(one(objects, 'Deployment').spec.template.metadata.labels).toMatchObject(gateway.selectorLabels);
    expect(one(objects, 'Service').spec.selector).toEqual(gateway.selectorLabels);
    expect(gateway.workloadSelector.labels).toEqual(gateway.selectorLabels);
  });
});

describe('EgressGateway | options', () => {
  test('snapshot: autoscaling, placement on dedicated nodes, resources, credential access', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', {
      ports: [EgressPort.tls(443), EgressPort.http(80), EgressPort.tls(9443, { name: 'tls-mqtt' })],
      autoscaling: { minReplicas: 3, maxReplicas: 10, targetCpuUtilizationPercent: 70 },
      minAvailable: 2,
      nodeSelector: { 'node-role.example.com/egress': 'true' },
      tolerations: [plus.NodeTaintQuery.is('dedicated', 'egress', { effect: plus.TaintEffect.NO_SCHEDULE })],
      resources: { cpu: { request: plus.Cpu.millis(500) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(2) } },
      priorityClassName: 'system-cluster-critical',
      spreadAcrossZones: false,
    });
    gateway.grantCredentialAccess();
    gateway.grantCredentialAccess(); // idempotent
    const objects = synthValid(chart);
    expect(objects).toMatchSnapshot();
    const deployment = one(objects, 'Deployment');
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    expect(deployment.spec.template.spec.nodeSelector).toEqual({ 'node-role.example.com/egress': 'true' });
    expect(deployment.spec.template.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'egress', effect: 'NoSchedule' }]);
    expect(deployment.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '2048Mi' } });
    expect(one(objects, 'Service').spec.ports).toEqual([
      { name: 'tls-443', port: 443, targetPort: 8443, protocol: 'TCP' },
      { name: 'http-80', port: 80, targetPort: 8080, protocol: 'TCP' },
      { name: 'tls-mqtt', port: 9443, targetPort: 9443, protocol: 'TCP' },
    ]);
    expect(one(objects, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'egress-gateway' } });
    expect(one(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    expect(one(objects, 'Role').rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]);
    expect(one(objects, 'RoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'egress-gateway', namespace: 'istio-egress' }]);
    expect(gateway.findPort(80).targetPort).toBe(8080);
  });

  test('one replica gets no PodDisruptionBudget; minAvailable 0 turns it off', () => {
    const chart = Testing.chart();
    new EgressGateway(chart, 'one', { name: 'one', replicas: 1 });
    new EgressGateway(chart, 'none', { name: 'none', replicas: 3, minAvailable: 0 });
    expect(byKind(synthValid(chart), 'PodDisruptionBudget')).toHaveLength(0);
  });

  test('mTLS and access logging are scoped to the gateway pods and idempotent', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw');
    gateway.requireMutualTls();
    gateway.requireMutualTls();
    gateway.enableAccessLogging();
    gateway.enableAccessLogging('envoy');
    const objects = synthValid(chart);
    const pa = one(objects, 'PeerAuthentication');
    expect(pa.metadata).toEqual({ name: 'egress-gateway-strict-mtls', namespace: 'istio-egress', labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress', 'app.kubernetes.io/part-of': 'egress-gateway' } });
    expect(pa.spec).toEqual({ selector: { matchLabels: gateway.selectorLabels }, mtls: { mode: 'STRICT' } });
    const telemetry = one(objects, 'Telemetry');
    expect(telemetry.metadata.namespace).toBe('istio-egress');
    expect(telemetry.spec.selector.matchLabels).toEqual(gateway.selectorLabels);
    expect(() => gateway.enableAccessLogging('otel')).toThrow('already uses provider "envoy", not "otel"; use one provider');
  });

  test('claimPort gives each gateway port to one construct', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw');
    const a = new Chart(chart, 'a');
    const b = new Chart(chart, 'b');
    expect(gateway.claimPort(443, a).targetPort).toBe(8443);
    expect(gateway.claimPort(443, a).number).toBe(443);
    expect(() => gateway.claimPort(443, b)).toThrow(
      'port 443 of egress gateway istio-egress/egress-gateway is already configured by "test/a"; give the gateway another port for this construct, or use another gateway',
    );
    expect(() => gateway.claimPort(80, a)).toThrow('egress gateway istio-egress/egress-gateway has no port 80 (it has 443); add it to the gateway\'s ports');
  });
});

describe('EgressGateway | existing gateway', () => {
  test('fromAttributes describes a Helm-installed gateway and creates nothing', () => {
    const chart = Testing.chart();
    const gateway = EgressGateway.fromAttributes(chart, 'helm', {
      namespace: 'istio-egress',
      serviceName: 'istio-egressgateway',
      selectorLabels: { istio: 'egressgateway' },
      ports: [EgressPort.of({ number: 80, protocol: Protocol.HTTP2, name: 'http2' }), EgressPort.https(443, { name: 'https' })],
      serviceAccountName: 'istio-egressgateway-service-account',
    });
    gateway.grantCredentialAccess();
    expect(Testing.synth(chart)).toEqual([]);
    expect(gateway.serviceFqdn).toBe('istio-egressgateway.istio-egress.svc.cluster.local');
    // as in a Kubernetes Service, no targetPort means the same port on the pods (what Istio's gateway chart does)
    expect(gateway.ports.map((p) => [p.name, p.number, p.targetPort])).toEqual([
      ['http2', 80, 80],
      ['https', 443, 443],
    ]);
    // istioctl's istio-egressgateway listens on 8080/8443: say so
    const istioctl = EgressGateway.fromAttributes(chart, 'istioctl', {
      namespace: 'istio-egress',
      serviceName: 'istio-egressgateway',
      selectorLabels: { istio: 'egressgateway' },
      ports: [EgressPort.tls(443, { targetPort: 8443 })],
    });
    expect(istioctl.toEgressPathConfig().podPorts).toEqual([8443]);
    expect(gateway.identity!.principal()).toBe('cluster.local/ns/istio-egress/sa/istio-egressgateway-service-account');
  });

  test.each([
    ['istio-system', 'it is Istio\'s root namespace, where selector-scoped Istio policy applies to matching pods of every namespace'],
    ['kube-system', 'it belongs to Kubernetes itself, and the proxy\'s RBAC there would reach cluster components\' Secrets'],
    ['kube-public', 'it belongs to Kubernetes itself'],
    ['default', 'it holds unrelated workloads and Services, which the proxy\'s namespace labels and RBAC would reach'],
  ])('M5: refuses the reserved namespace %s for a new and an existing gateway', (namespace, reason) => {
    const chart = Testing.chart();
    const message = `namespace: an egress gateway cannot run in namespace "${namespace}": ${reason}`;
    expect(() => EgressGateway.fromAttributes(chart, 'helm', { namespace, serviceName: 'istio-egressgateway', selectorLabels: { istio: 'egressgateway' }, ports: [EgressPort.tls()] })).toThrow(`test/helm: ${message}`);
    expect(() => new EgressGateway(chart, 'gw', { namespace })).toThrow(`test/gw: ${message}`);
  });

  test('M5: the root and istiod namespaces follow MeshSettings', () => {
    const chart = Testing.chart();
    const mesh = new MeshSettings({ rootNamespace: 'mesh-root', istiodNamespace: 'istiod' });
    expect(new EgressGateway(chart, 'ok', { namespace: 'istio-system', mesh }).namespace).toBe('istio-system');
    expect(() => new EgressGateway(chart, 'root', { namespace: 'mesh-root', mesh })).toThrow('test/root: namespace: an egress gateway cannot run in namespace "mesh-root": it is Istio\'s root namespace');
    expect(() => new EgressGateway(chart, 'cp', { namespace: 'istiod', mesh })).toThrow('test/cp: namespace: an egress gateway cannot run in namespace "istiod": it is istiod\'s namespace, whose Secrets hold the mesh CA');
  });

  test('M5: no Kubernetes API token is mounted into the gateway pods (the proxy uses the projected istio-token)', () => {
    const chart = Testing.chart();
    new EgressGateway(chart, 'gw');
    const objects = synthValid(chart);
    expect(one(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(one(objects, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
    // nothing mounts a token by other means either
    expect(one(objects, 'Deployment').spec.template.spec.volumes).toBeUndefined();
  });

  test('M5: createNamespace defines the gateway namespace labelled for sidecar injection, so one kubectl apply installs the gateway', () => {
    const chart = Testing.chart();
    new EgressGateway(chart, 'gw', { namespace: 'egress', createNamespace: true });
    const objects = synthValid(chart);
    expect(objects[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'egress', labels: { 'istio-injection': 'enabled' } } });
    expect(objects.slice(1).every((o) => o.metadata.namespace === 'egress')).toBe(true);
    // off by default: the namespace is usually managed elsewhere
    const plain = Testing.chart();
    new EgressGateway(plain, 'gw');
    expect(byKind(synthValid(plain), 'Namespace')).toEqual([]);
    // never for a reserved namespace (refused before anything is defined)
    expect(() => new EgressGateway(Testing.chart(), 'gw', { namespace: 'default', createNamespace: true })).toThrow('test/gw: namespace: an egress gateway cannot run in namespace "default"');
  });

  test('fails for an existing gateway without ports or labels', () => {
    const chart = Testing.chart();
    expect(() => EgressGateway.fromAttributes(chart, 'a', { namespace: 'x', serviceName: 'gw', selectorLabels: { istio: 'x' }, ports: [] })).toThrow(
      'test/a: ports: an existing gateway needs at least one port; list its Service ports (e.g. from EgressPort.tls with port 443 and targetPort 8443)',
    );
    expect(() => EgressGateway.fromAttributes(chart, 'b', { namespace: 'x', serviceName: 'gw', selectorLabels: {}, ports: [EgressPort.tls()] })).toThrow(
      'test/b: selectorLabels: a workload selector needs at least one label',
    );
  });
});

describe('EgressGateway | bad input', () => {
  test.each([
    [{ namespace: 'Istio_Egress' }, 'test/gw: namespace: invalid namespace "Istio_Egress": a namespace must consist of lower-case letters'],
    [{ name: 'egress.gateway' }, 'test/gw: name: invalid gateway name "egress.gateway": a gateway name must consist of lower-case letters'],
    [{ name: 'x'.repeat(64) }, 'test/gw: name: invalid gateway name'],
    [{ name: 'n'.repeat(40), namespace: 'm'.repeat(30) }, 'test/gw: name: gateway name and namespace'],
    [{ replicas: 0 }, 'test/gw: replicas: 0 must be a whole number >= 1 (2 or more for high availability)'],
    [{ replicas: 1.5 }, 'test/gw: replicas: 1.5 must be a whole number >= 1'],
    [{ replicas: 2, minAvailable: 2 }, 'test/gw: minAvailable: 2 must be below replicas (2), otherwise the PodDisruptionBudget blocks every eviction and node drains hang'],
    [{ minAvailable: -1 }, 'test/gw: minAvailable: -1 must be a whole number >= 0 (0 means no PodDisruptionBudget)'],
    [{ replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 4 } }, 'test/gw: replicas: set either replicas (2) or autoscaling, not both'],
    [{ autoscaling: { minReplicas: 0, maxReplicas: 4 } }, 'test/gw: autoscaling.minReplicas: 0 must be a whole number >= 1'],
    [{ autoscaling: { minReplicas: 3, maxReplicas: 2 } }, 'test/gw: autoscaling.maxReplicas: 2 must be a whole number >= minReplicas (3)'],
    [{ autoscaling: { minReplicas: 2, maxReplicas: 4, targetCpuUtilizationPercent: 0 } }, 'test/gw: autoscaling.targetCpuUtilizationPercent: 0 must be a whole number of percent >= 1'],
    [
      { autoscaling: { minReplicas: 2, maxReplicas: 4 }, minAvailable: 2 },
      'test/gw: minAvailable: 2 must be below autoscaling.minReplicas (2), otherwise the PodDisruptionBudget blocks every eviction and node drains hang; lower it, raise minReplicas, or set 0 for no budget',
    ],
    [{ ports: [] }, 'test/gw: ports: at least one port is required, e.g. from EgressPort.tls with 443'],
    [{ ports: [EgressPort.tls(443), EgressPort.https(443, { name: 'https-x' })] }, 'test/gw: ports[1]: port 443 already defined at ports[0]'],
    [{ ports: [EgressPort.tls(443, { name: 'egress' })] }, 'test/gw: ports[0]: port name "egress" does not start with its protocol: Istio reads a Service port\'s protocol from the name; use e.g. "tls-443"'],
    [{ ports: [EgressPort.tls(443), EgressPort.tls(8443)] }, 'test/gw: ports[1]: target port 8443 is already used by ports[0]; each Service port needs its own pod port'],
    [{ ports: [undefined as any] }, 'test/gw: ports[0]: an EgressPort must not be undefined; remove the empty entry'],
  ])('fails for %j', (props, message) => {
    const chart = Testing.chart();
    expect(() => new EgressGateway(chart, 'gw', props as any)).toThrow(message);
  });

  test('its objects are plain ApiObjects with stable ids; ApiObject.of(gateway) is the Deployment (id Resource); key children are properties', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw');
    expect(ApiObject.of(gateway)).toBe(gateway.deployment);
    expect(ApiObject.of(gateway).kind).toBe('Deployment');
    expect([gateway.service.kind, gateway.serviceAccount.kind, gateway.namespaceObject]).toEqual(['Service', 'ServiceAccount', undefined]);
    expect(gateway.node.children.map((c) => c.node.id)).toEqual(['ServiceAccount', 'Resource', 'Service', 'DisruptionBudget']);
    // an escape hatch change reaches the output
    ApiObject.of(gateway).metadata.addAnnotation('example.com/owner', 'platform');
    expect(synthValid(chart).find((o) => o.kind === 'Deployment').metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
  });
});
