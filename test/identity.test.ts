import { Chart, Testing } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { MeshSettings, WorkloadIdentity, WorkloadSelector } from '../src';
import { authorizationSources } from '../src/core/identity';

describe('WorkloadIdentity', () => {
  const custom = new MeshSettings({ trustDomain: 'prod.example.com' });

  test.each([
    [WorkloadIdentity.serviceAccount('shop', 'checkout'), 'cluster.local/ns/shop/sa/checkout', 'spiffe://cluster.local/ns/shop/sa/checkout', 'service account shop/checkout'],
    [WorkloadIdentity.allInNamespace('shop'), undefined, undefined, 'namespace shop'],
    [WorkloadIdentity.anyInMesh(), '*', undefined, 'any in-mesh identity'],
  ])('%s', (identity, principal, spiffe, text) => {
    expect(identity.principal()).toEqual(principal);
    expect(identity.spiffeId()).toEqual(spiffe);
    expect(identity.toString()).toEqual(text);
  });

  test('uses the trust domain of the mesh', () => {
    const sa = WorkloadIdentity.serviceAccount('shop', 'checkout');
    expect(sa.principal(custom)).toBe('prod.example.com/ns/shop/sa/checkout');
    expect(sa.spiffeId(custom)).toBe('spiffe://prod.example.com/ns/shop/sa/checkout');
  });

  test('from a cdk8s-plus ServiceAccount in a chart namespace', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'shop' });
    const sa = new plus.ServiceAccount(chart, 'sa', { metadata: { name: 'checkout' } });
    expect(WorkloadIdentity.fromServiceAccount(sa).principal()).toBe('cluster.local/ns/shop/sa/checkout');
  });

  test('from an imported ServiceAccount', () => {
    const chart = Testing.chart();
    const sa = plus.ServiceAccount.fromServiceAccountName(chart, 'sa', 'payments', { namespaceName: 'billing' });
    const identity = WorkloadIdentity.fromServiceAccount(sa);
    expect(identity.namespace).toBe('billing');
    expect(identity.serviceAccountName).toBe('payments');
  });

  test('fails for a ServiceAccount without a namespace, or with a contradicting one', () => {
    const chart = Testing.chart();
    const sa = new plus.ServiceAccount(chart, 'sa', { metadata: { name: 'checkout' } });
    expect(() => WorkloadIdentity.fromServiceAccount(sa)).toThrow(
      'service account "checkout" has no namespace; set metadata.namespace on it (or on its chart) or pass the namespace',
    );
    expect(WorkloadIdentity.fromServiceAccount(sa, 'shop').namespace).toBe('shop');
    const placed = new plus.ServiceAccount(chart, 'placed', { metadata: { name: 'x', namespace: 'a' } });
    expect(() => WorkloadIdentity.fromServiceAccount(placed, 'b')).toThrow('service account "x" is in namespace "a", not "b"; drop the namespace argument');
  });

  test.each([
    [() => WorkloadIdentity.serviceAccount('Shop', 'x'), 'invalid namespace "Shop": a namespace contains upper-case letters; write it in lower case ("shop")'],
    [() => WorkloadIdentity.serviceAccount('shop.prod', 'x'), 'invalid namespace "shop.prod": a namespace must consist of lower-case letters'],
    [() => WorkloadIdentity.serviceAccount('shop', ''), 'invalid service account name "": a service account name must be a non-empty DNS-1123 subdomain'],
    [() => WorkloadIdentity.serviceAccount('shop', 'a_b'), 'invalid service account name "a_b": each dot-separated part must consist of lower-case letters'],
    [() => WorkloadIdentity.allInNamespace(''), 'invalid namespace "": a namespace must not be empty'],
    [() => WorkloadIdentity.allInNamespace('x'.repeat(64)), 'a namespace is 64 characters long; a DNS label has at most 63'],
  ])('fails %#', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('authorizationSources', () => {
  const mesh = MeshSettings.defaults();

  test('principals and namespaces go to separate sources, sorted and unique', () => {
    expect(
      authorizationSources(
        [
          WorkloadIdentity.serviceAccount('b', 'y'),
          WorkloadIdentity.allInNamespace('team-z'),
          WorkloadIdentity.serviceAccount('a', 'x'),
          WorkloadIdentity.serviceAccount('a', 'x'),
          WorkloadIdentity.allInNamespace('team-a'),
        ],
        mesh,
      ),
    ).toEqual([
      { source: { principals: ['cluster.local/ns/a/sa/x', 'cluster.local/ns/b/sa/y'] } },
      { source: { namespaces: ['team-a', 'team-z'] } },
    ]);
  });

  test('anyInMesh wins', () => {
    expect(authorizationSources([WorkloadIdentity.serviceAccount('a', 'x'), WorkloadIdentity.anyInMesh()], mesh)).toEqual([{ source: { principals: ['*'] } }]);
  });

  test('fails with no identity', () => {
    expect(() => authorizationSources([], mesh)).toThrow('at least one identity is required; use WorkloadIdentity.anyInMesh to allow every in-mesh workload');
  });
});

describe('WorkloadSelector', () => {
  test('from labels, sorted', () => {
    expect(WorkloadSelector.fromLabels({ 'b': '2', 'app.kubernetes.io/name': 'x' }).labels).toEqual({ 'app.kubernetes.io/name': 'x', 'b': '2' });
  });

  test('from a cdk8s-plus Deployment', () => {
    const chart = Testing.chart();
    const deployment = new plus.Deployment(chart, 'web', { containers: [{ image: 'nginx' }] });
    const labels = WorkloadSelector.fromPodSelector(deployment).labels;
    expect(labels).toEqual({ 'cdk8s.io/metadata.addr': deployment.matchLabels['cdk8s.io/metadata.addr'] });
  });

  test('from Pods.select with labels', () => {
    const chart = Testing.chart();
    const pods = plus.Pods.select(chart, 'pods', { labels: { app: 'sleep' } });
    expect(WorkloadSelector.fromPodSelector(pods).labels).toEqual({ app: 'sleep' });
  });

  test('fails for selectors Istio cannot express', () => {
    const chart = Testing.chart();
    const expr = plus.Pods.select(chart, 'expr', { expressions: [plus.LabelExpression.exists('app')] });
    expect(() => WorkloadSelector.fromPodSelector(expr)).toThrow('pod selector "test/expr" uses label expressions; Istio selectors match exact labels only');
    const ns = plus.Pods.select(chart, 'ns', { labels: { app: 'x' }, namespaces: plus.Namespaces.select(chart, 'nss', { names: ['a'] }) });
    expect(() => WorkloadSelector.fromPodSelector(ns)).toThrow('pod selector "test/ns" selects namespaces');
  });

  test.each([
    [{}, 'a workload selector needs at least one label; an empty selector would select every pod of the namespace'],
    [{ '-bad': 'x' }, 'invalid label key "-bad"'],
    [{ 'Bad Prefix/x': 'y' }, 'invalid label key prefix "Bad Prefix"'],
    [{ app: 'not valid' }, 'invalid value "not valid" for label "app"'],
    [{ app: 'x'.repeat(64) }, 'for label "app": at most 63 alphanumerics'],
  ])('fails for %j', (labels, message) => {
    expect(() => WorkloadSelector.fromLabels(labels)).toThrow(message);
  });
});

describe('MeshSettings', () => {
  test('Istio defaults', () => {
    const mesh = MeshSettings.defaults();
    expect([mesh.rootNamespace, mesh.istiodNamespace, mesh.trustDomain, mesh.clusterDomain]).toEqual(['istio-system', 'istio-system', 'cluster.local', 'cluster.local']);
    expect(mesh.serviceFqdn('egress', 'istio-egress')).toBe('egress.istio-egress.svc.cluster.local');
  });

  test('custom values', () => {
    const mesh = new MeshSettings({ rootNamespace: 'mesh-root', istiodNamespace: 'istio-cp', trustDomain: 'td.example', clusterDomain: 'k8s.internal' });
    expect(mesh.serviceFqdn('a', 'b')).toBe('a.b.svc.k8s.internal');
    expect(mesh.rootNamespace).toBe('mesh-root');
    expect(mesh.istiodNamespace).toBe('istio-cp');
  });

  test.each([
    [{ rootNamespace: 'Istio' }, 'invalid rootNamespace "Istio"'],
    [{ istiodNamespace: '' }, 'invalid istiodNamespace ""'],
    [{ trustDomain: 'bad_domain' }, 'invalid trustDomain "bad_domain"'],
    [{ clusterDomain: 'a..b' }, 'invalid clusterDomain "a..b"'],
  ])('fails for %j', (props, message) => {
    expect(() => new MeshSettings(props)).toThrow(message);
  });
});
