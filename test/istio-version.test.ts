import { CRD_SETS } from '../scripts/crds';
import { IstioVersion, MeshSettings, Protocol } from '../src';

describe('IstioVersion | the support window and the facts per release', () => {
  test.each([
    // version, text, supported, waypoint DYNAMIC_DNS protocols, sidecar DYNAMIC_DNS, serviceEntryVisibility, Sidecar ~ exclusions, IST0177
    [IstioVersion.V1_28, '1.28', false, [Protocol.HTTP], false, false, false, false],
    [IstioVersion.V1_29, '1.29', false, [Protocol.HTTP, Protocol.TLS], false, false, false, false],
    [IstioVersion.V1_30, '1.30', true, [Protocol.HTTP, Protocol.TLS, Protocol.HTTP2, Protocol.GRPC], true, false, false, false],
    [IstioVersion.V1_31, '1.31', true, [Protocol.HTTP, Protocol.TLS, Protocol.HTTP2, Protocol.GRPC], true, true, true, true],
    [IstioVersion.V1_32, '1.32', true, [Protocol.HTTP, Protocol.TLS, Protocol.HTTP2, Protocol.GRPC], true, true, true, true],
  ])('%s', (version, text, supported, waypointProtocols, sidecarDns, visibility, exclusions, ist0177) => {
    expect(version.toString()).toBe(text);
    expect(version.isSupported()).toBe(supported);
    expect(version.waypointDynamicDnsProtocols()).toEqual(waypointProtocols);
    expect(version.sidecarDynamicDns()).toBe(sidecarDns);
    expect(version.serviceEntryVisibility()).toBe(visibility);
    expect(version.sidecarEgressHostExclusions()).toBe(exclusions);
    expect(version.analyzesConflictingServiceEntryProtocols()).toBe(ist0177);
  });

  test('the window is 1.30 to 1.32, and the schema checks cover exactly its releases', () => {
    expect(IstioVersion.OLDEST_SUPPORTED).toBe(IstioVersion.V1_30);
    expect(IstioVersion.NEWEST_SUPPORTED).toBe(IstioVersion.V1_32);
    const all = [IstioVersion.V1_28, IstioVersion.V1_29, IstioVersion.V1_30, IstioVersion.V1_31, IstioVersion.V1_32];
    const window = all.filter((v) => v.isSupported());
    expect(CRD_SETS.map((s) => s.name)).toEqual(window.map((v) => v.toString()));
  });

  test('orders releases', () => {
    expect(IstioVersion.V1_32.atLeast(IstioVersion.V1_31)).toBe(true);
    expect(IstioVersion.V1_31.atLeast(IstioVersion.V1_32)).toBe(false);
    expect(IstioVersion.V1_32.atLeast(IstioVersion.V1_32)).toBe(true);
  });
});

describe('MeshSettings.istioVersion | set once for the mesh', () => {
  test('defaults to the newest supported release', () => {
    expect(new MeshSettings().istioVersion).toBe(IstioVersion.V1_32);
    expect(MeshSettings.defaults().istioVersion).toBe(IstioVersion.NEWEST_SUPPORTED);
  });

  test('keeps the release it is given', () => {
    expect(new MeshSettings({ istioVersion: IstioVersion.V1_30 }).istioVersion).toBe(IstioVersion.V1_30);
    expect(new MeshSettings({ istioVersion: IstioVersion.V1_31, trustDomain: 'prod.example.com' }).istioVersion).toBe(IstioVersion.V1_31);
  });

  test('refuses a release outside the support window, saying which are supported', () => {
    expect(() => new MeshSettings({ istioVersion: IstioVersion.V1_29 })).toThrow(
      'new MeshSettings: invalid istioVersion 1.29: the supported Istio releases are 1.30 to 1.32, whose CRDs the manifests are checked against; upgrade Istio and set istioVersion to one of them',
    );
  });

  test('refuses a value that is not an IstioVersion (e.g. a string from another language)', () => {
    expect(() => new MeshSettings({ istioVersion: '1.31' as any })).toThrow('new MeshSettings: invalid istioVersion "1.31": expected an IstioVersion, e.g. IstioVersion.V1_31');
  });
});
