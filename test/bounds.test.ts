import { Duration, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { DnsLookupFamily, EgressPort } from '../src';
import { describe as describeValue, requireArray, requireImplements, requireInstance } from '../src/core/boundary';
import {
  checkDuration,
  checkEnum,
  checkInt32,
  checkNotProxyPort,
  checkRe2,
  checkUint32,
  containerPortNameProblem,
  dns1035LabelProblem,
  MAX_DURATION_SECONDS,
  PROXY_RESERVED_PORTS,
} from '../src/core/bounds';
import { fieldError, inFactory, inField, InputError, problem } from '../src/core/errors';

/**
 * Kubernetes `IsValidPortName` (apimachinery `validation.go`), written as its four rules read, to compare against.
 */
function k8sValidPortName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= 15 &&
    /^[-a-z0-9]+$/.test(name) && // IANA_SVC_NAME charset (lower case only in Kubernetes)
    /[a-z]/.test(name) && // at least one letter
    !name.includes('--') &&
    !name.startsWith('-') &&
    !name.endsWith('-')
  );
}

describe('integer bounds', () => {
  test('int32 accepts exactly -2^31..2^31-1 (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map(Number)), (n) => {
        const ok = Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 31 - 1;
        if (ok) {
          expect(checkInt32(n, 'priority')).toBe(n);
        } else {
          expect(() => checkInt32(n, 'priority')).toThrow(/^priority .* (is out of range \(a protobuf int32\)|must be a whole number)/);
        }
      }),
    );
  });

  test('uint32 accepts exactly min..2^32-1 (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.double(), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map(Number)), (n) => {
        const ok = Number.isInteger(n) && n >= 1 && n <= 2 ** 32 - 1;
        if (ok) {
          expect(checkUint32(n, 'maxHosts')).toBe(n);
        } else {
          expect(() => checkUint32(n, 'maxHosts')).toThrow(/^maxHosts /);
        }
      }),
    );
  });

  test.each([
    [2 ** 31, 'priority 2147483648 is out of range (a protobuf int32); use a whole number in -2147483648..2147483647'],
    [NaN, 'priority NaN must be a whole number'],
    [Infinity, 'priority Infinity must be a whole number'],
    ['1', 'priority "1" must be a whole number'],
  ])('fails for %p', (value, message) => {
    expect(() => checkInt32(value, 'priority')).toThrow(message);
  });
});

describe('durations', () => {
  test('renders protobuf JSON and accepts up to the protobuf maximum (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_DURATION_SECONDS }), (seconds) => {
        expect(checkDuration(Duration.seconds(seconds), 'hostTtl', 1)).toBe(`${seconds}s`);
      }),
    );
  });

  test('fails beyond the protobuf maximum (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_DURATION_SECONDS + 1, max: Math.floor(Number.MAX_SAFE_INTEGER / 1000) }), (seconds) => {
        expect(() => checkDuration(Duration.seconds(seconds), 'hostTtl')).toThrow('is longer than a protobuf Duration allows (315576000000 s');
      }),
    );
  });

  test.each([
    [Duration.millis(999), 'hostTtl of 999 ms is too short; use at least 1 second'],
    [Duration.millis(1.5), 'hostTtl 1.5 millis must be a whole, finite number of milliseconds'],
    [Duration.seconds(Infinity), 'must be a whole, finite number of milliseconds'],
    [300, 'hostTtl 300 must be a Duration, e.g. Duration.minutes(5)'],
    ['5m', 'hostTtl "5m" must be a Duration'],
  ])('fails for %p', (value, message) => {
    expect(() => checkDuration(value, 'hostTtl', 1)).toThrow(message);
  });

  test('renders fractions of a second', () => {
    expect(checkDuration(Duration.millis(1500), 'hostTtl', 1)).toBe('1.5s');
  });
});

describe('enums', () => {
  test('fails for a value outside the enum, listing the members', () => {
    expect(() => checkEnum('BOGUS', DnsLookupFamily, 'DnsLookupFamily', 'lookupFamily')).toThrow(
      'lookupFamily "BOGUS" is not a DnsLookupFamily; use one of DnsLookupFamily.V4_ONLY, DnsLookupFamily.V6_ONLY, DnsLookupFamily.V4_PREFERRED, DnsLookupFamily.AUTO, DnsLookupFamily.ALL',
    );
    expect(() => checkEnum('v4_only', DnsLookupFamily, 'DnsLookupFamily', 'lookupFamily')).toThrow('lookupFamily "v4_only" is not a DnsLookupFamily');
    expect(checkEnum('ALL', DnsLookupFamily, 'DnsLookupFamily', 'lookupFamily')).toBe(DnsLookupFamily.ALL);
  });
});

describe('container port names (Kubernetes IsValidPortName)', () => {
  test('agree with the Kubernetes rules on arbitrary names (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'z', '0', '9', '-', 'A', '_', '.'), maxLength: 20 }), (name) => {
        fc.pre(name.length > 0);
        expect(containerPortNameProblem(name) === undefined).toBe(k8sValidPortName(name));
      }),
    );
  });

  test.each([
    ['tls-egress-wikipedia', 'is 20 characters long; a container port name has at most 15'],
    ['tls--443', "may not start or end with '-' or contain '--'"],
    ['-tls', "may not start or end with '-'"],
    ['tls-', "may not start or end with '-'"],
    ['443', 'needs at least one letter'],
    ['TLS', 'may contain only lower-case letters'],
  ])('fails for %j', (name, fragment) => {
    expect(containerPortNameProblem(name)).toContain(fragment);
  });

  test('every default EgressPort name is a valid container port name for every port number (property)', () => {
    const factories = fc.constantFrom(EgressPort.tls, EgressPort.https, EgressPort.http, EgressPort.tcp);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), factories, (n, make) => {
        expect(containerPortNameProblem(make(n).name)).toBeUndefined();
      }),
    );
  });
});

describe('Service names (DNS-1035)', () => {
  test.each(['1gw', '443', '0'])('fails for %j', (name) => {
    expect(dns1035LabelProblem(name)).toBe('must start with a lower-case letter (Kubernetes Service names are DNS-1035 labels)');
  });
  test.each(['gw', 'egress-gateway', 'a1'])('accepts %j', (name) => {
    expect(dns1035LabelProblem(name)).toBeUndefined();
  });
});

describe('proxy ports', () => {
  test('fails for each of the proxy ports, naming its use', () => {
    for (const [port, use] of PROXY_RESERVED_PORTS) {
      expect(() => checkNotProxyPort(port, 'port')).toThrow(`port ${port} is ${use} of the Istio proxy, which binds it itself; choose another port`);
    }
    expect([...PROXY_RESERVED_PORTS.keys()]).toEqual([15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090]);
  });

  test('accepts every other port (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (port) => {
        fc.pre(!PROXY_RESERVED_PORTS.has(port));
        expect(checkNotProxyPort(port, 'port')).toBe(port);
      }),
    );
  });
});

describe('RE2 check', () => {
  test('fails for a non-string and for what Go refuses, with the value', () => {
    expect(() => checkRe2(42, 'regular expression')).toThrow('regular expression 42 must be a string');
    expect(() => checkRe2('(?=1)', 'regular expression')).toThrow('regular expression "(?=1)" is not valid RE2 (Go regexp, which Istio compiles it with): lookahead');
    expect(checkRe2('(?P<v>1)', 'regular expression')).toBe('(?P<v>1)');
  });
});

describe('errors.ts: one wrapping mechanism', () => {
  test('fails with path, field and the joined sub-field; the original error is the cause', () => {
    const chart = Testing.chart();
    const original = problem('maxHosts 0 is out of range', 'maxHosts');
    let error: any;
    try {
      inField(chart, 'dnsCache', () => {
        throw original;
      });
    } catch (e) {
      error = e;
    }
    expect(error.message).toBe('test: dnsCache.maxHosts: maxHosts 0 is out of range');
    expect(error.cause).toBe(original);
    expect(error).toBeInstanceOf(InputError);
  });

  test('fails with a list index joined without a dot', () => {
    const chart = Testing.chart();
    expect(() => inField(chart, 'ports', () => requireArray([EgressPort.tls(443), 'x'], { element: 'an EgressPort', each: (p) => requireInstance(p, EgressPort, 'EgressPort.tls(443)') }))).toThrow(
      'test: ports[1]: expected an EgressPort, got the string "x"; make one with EgressPort.tls',
    );
  });

  test('fails once: a located error passes through an outer inField unchanged', () => {
    const chart = Testing.chart();
    expect(() => inField(chart, 'outer', () => fieldError(chart, 'inner', 'bad value'))).toThrow(/^test: inner: bad value$/);
  });

  test('fails with one casing: a plain Error from elsewhere is wrapped with a lower-case start, keeping identifiers', () => {
    const chart = Testing.chart();
    expect(() => inField(chart, 'f', () => { throw new Error('Something broke'); })).toThrow(/^test: f: something broke$/);
    expect(() => inField(chart, 'f', () => { throw new Error('EgressPort.tls(0): bad'); })).toThrow(/^test: f: EgressPort\.tls\(0\): bad$/);
    expect(() => inField(chart, 'f', () => { throw new Error('Istio refuses it'); })).toThrow(/^test: f: Istio refuses it$/);
  });

  test('fails with the factory call as prefix until a construct locates the error', () => {
    let error: any;
    try {
      inFactory('EgressPort.tls(0)', () => {
        throw problem('port number 0 must be an integer in the range 1..65535');
      });
    } catch (e) {
      error = e;
    }
    expect(error.message).toBe('EgressPort.tls(0): port number 0 must be an integer in the range 1..65535');
    expect(() => inField(Testing.chart(), 'ports[0]', () => { throw error; })).toThrow(/^test: ports\[0\]: port number 0 must be/);
  });
});

describe('boundary checks', () => {
  test.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['a', 'the string "a"'],
    [1, 'the number 1'],
    [true, 'true'],
    [[1], 'a list [1]'],
    [{ a: 1 }, 'an object {"a":1}'],
    [() => 1, '(a function)'],
  ])('describes %p as %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  test('fails for an object that lacks an interface method', () => {
    expect(() => requireImplements({ claimPort: () => 1 }, 'IEgressGateway', ['claimPort', 'addClientSubset'], 'EgressGateway.fromAttributes(...)')).toThrow(
      'expected an IEgressGateway, got an object {} (no addClientSubset); use EgressGateway.fromAttributes',
    );
  });

  test('fails for a long value with a shortened rendering', () => {
    expect(() => requireArray('x'.repeat(100), { element: 'a host' })).toThrow(/got the string "x{56}\.\.\.; wrap it in a list/);
  });
});
