import * as fc from 'fast-check';
import { EgressPort, Protocol } from '../src';
import { protocolFromPortName, validateUniquePorts } from '../src/core/port';

describe('EgressPort | factories', () => {
  test.each([
    [EgressPort.tls(), 443, Protocol.TLS, 'tls-443'],
    [EgressPort.tls(8443), 8443, Protocol.TLS, 'tls-8443'],
    [EgressPort.https(), 443, Protocol.HTTPS, 'https-443'],
    [EgressPort.http(), 80, Protocol.HTTP, 'http-80'],
    [EgressPort.tcp(5432), 5432, Protocol.TCP, 'tcp-5432'],
    [EgressPort.of({ number: 1, protocol: Protocol.GRPC }), 1, Protocol.GRPC, 'grpc-1'],
    [EgressPort.of({ number: 65535, protocol: Protocol.HTTP2 }), 65535, Protocol.HTTP2, 'http2-65535'],
    [EgressPort.of({ number: 27017, protocol: Protocol.MONGO }), 27017, Protocol.MONGO, 'mongo-27017'],
    [EgressPort.http(80, { name: 'http-web', targetPort: 443 }), 80, Protocol.HTTP, 'http-web'],
    [EgressPort.tls(443, { name: 'egress' }), 443, Protocol.TLS, 'egress'],
  ])('%s', (port, number, protocol, name) => {
    expect(port.number).toBe(number);
    expect(port.protocol).toBe(protocol);
    expect(port.name).toBe(name);
  });

  test('target port and protocol families', () => {
    const origination = EgressPort.http(80, { targetPort: 443 });
    expect(origination.targetPort).toBe(443);
    expect(origination.isHttp).toBe(true);
    expect(origination.isTls).toBe(false);
    expect(EgressPort.https().isTls).toBe(true);
    expect(EgressPort.tls().isHttp).toBe(false);
    expect(EgressPort.tcp(22).isTls || EgressPort.tcp(22).isHttp).toBe(false);
    expect(EgressPort.tls(443).toString()).toBe('TLS 443 (tls-443)');
  });
});

describe('EgressPort | bad input', () => {
  test.each([
    [() => EgressPort.tls(0), 'port number 0 must be an integer in the range 1..65535'],
    [() => EgressPort.tls(70000), 'port number 70000 must be an integer in the range 1..65535'],
    [() => EgressPort.tls(-1), 'port number -1 must be an integer in the range 1..65535'],
    [() => EgressPort.tls(443.5), 'port number 443.5 must be an integer in the range 1..65535'],
    [() => EgressPort.tls(NaN), 'EgressPort.tls(NaN): port number NaN must be an integer in the range 1..65535'],
    [() => EgressPort.tcp('443' as any), 'port number "443" must be an integer in the range 1..65535'],
    [() => EgressPort.http(80, { targetPort: 0 }), 'target port 0 must be an integer in the range 1..65535'],
    [() => EgressPort.of({ number: 443, protocol: 'HTTPX' as any }), 'unsupported protocol "HTTPX": use one of HTTP, HTTPS, HTTP2, GRPC, TLS, TCP, MONGO, MYSQL, REDIS'],
    [() => EgressPort.tls(443, { name: 'TLS_443' }), 'invalid port name "TLS_443": a port name must consist of lower-case letters'],
    [() => EgressPort.tls(443, { name: '' }), 'invalid port name "": a port name must not be empty, e.g. "tls-443"'],
    [() => EgressPort.tls(443, { name: 'Tls-443' }), 'invalid port name "Tls-443": a port name contains upper-case letters; write it in lower case ("tls-443")'],
    [() => EgressPort.tls(443, { name: 'http-443' }), 'invalid port name "http-443": Istio reads protocol HTTP from its prefix but the port is TLS; name it "tls-443"'],
    [() => EgressPort.http(80, { name: 'tcp' }), 'invalid port name "tcp": Istio reads protocol TCP from its prefix but the port is HTTP; name it "http-80"'],
  ])('fails %#', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('port helpers', () => {
  test.each([
    ['http', Protocol.HTTP],
    ['http-web', Protocol.HTTP],
    ['HTTPS-x', Protocol.HTTPS],
    ['http2', Protocol.HTTP2],
    ['grpc-api', Protocol.GRPC],
    ['tls-egress', Protocol.TLS],
    ['tcp-db', Protocol.TCP],
    ['egress', undefined],
    ['web-http', undefined],
  ])('protocolFromPortName(%s) = %s', (name, protocol) => {
    expect(protocolFromPortName(name)).toBe(protocol);
  });

  test('validateUniquePorts fails on duplicated numbers and names', () => {
    expect(() => validateUniquePorts([EgressPort.tls(443), EgressPort.https(443)])).toThrow(
      'ports[1]: port 443 already defined at ports[0]; each port number may appear once',
    );
    expect(() => validateUniquePorts([EgressPort.tls(443, { name: 'tls' }), EgressPort.tls(8443, { name: 'tls' })], 'tlsPorts')).toThrow(
      'tlsPorts[1]: port name "tls" already defined at tlsPorts[0]; give each port its own name',
    );
    expect(() => validateUniquePorts([EgressPort.tls(443), EgressPort.tls(8443)])).not.toThrow();
  });

  test('every integer port number is accepted exactly when it is in 1..65535', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100000, max: 200000 }), (n) => {
        const inRange = n >= 1 && n <= 65535;
        if (inRange) {
          expect(EgressPort.tcp(n).name).toBe(`tcp-${n}`);
        } else {
          expect(() => EgressPort.tcp(n)).toThrow(`port number ${n} must be an integer in the range 1..65535`);
        }
      }),
    );
  });
});
