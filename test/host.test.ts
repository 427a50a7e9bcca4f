import * as fc from 'fast-check';
import { ExternalHost, HostSet } from '../src';
import { HostIndex } from '../src/core/host';

describe('ExternalHost | valid hosts', () => {
  // GIVEN names Istio accepts (rules H1-H2 in shared/docs/istio-rules.md) and that are fully qualified
  test.each([
    ['api.github.com', false, 'api.github.com'],
    ['*.wikipedia.org', true, 'wikipedia.org'],
    ['*.com', true, 'com'],
    ['en.wikipedia.org', false, 'en.wikipedia.org'],
    ['a.b', false, 'a.b'],
    ['xn--bcher-kva.example', false, 'xn--bcher-kva.example'],
    ['1password.com', false, '1password.com'],
    ['foo-bar.example.com', false, 'foo-bar.example.com'],
    ['123.example.com', false, '123.example.com'],
    ['a.123b', false, 'a.123b'],
    [`${'a'.repeat(63)}.com`, false, `${'a'.repeat(63)}.com`],
    [`*.${'b'.repeat(63)}.example.org`, true, `${'b'.repeat(63)}.example.org`],
    [['x'.repeat(63), 'y'.repeat(63), 'z'.repeat(63), 'w'.repeat(61)].join('.'), false, ['x'.repeat(63), 'y'.repeat(63), 'z'.repeat(63), 'w'.repeat(61)].join('.')],
  ])('accepts %s', (name, wildcard, domain) => {
    // WHEN
    const host = ExternalHost.of(name);
    // THEN
    expect(host.name).toEqual(name);
    expect(host.isWildcard).toBe(wildcard);
    expect(host.isAnyHost).toBe(false);
    expect(host.domain).toEqual(domain);
  });

  test('the bare wildcard only with allowAnyHost', () => {
    const any = ExternalHost.of('*', { allowAnyHost: true });
    expect(any.isAnyHost).toBe(true);
    expect(any.isWildcard).toBe(true);
    expect(any.domain).toEqual('');
    expect(any.matches('anything.example.com')).toBe(true);
  });

  test('a name parsed before is the same immutable host; the bare wildcard is checked every time', () => {
    expect(ExternalHost.of('api.example.com')).toBe(ExternalHost.of('api.example.com'));
    expect(ExternalHost.of('*.example.com')).not.toBe(ExternalHost.of('api.example.com'));
    ExternalHost.of('*', { allowAnyHost: true });
    expect(() => ExternalHost.of('*')).toThrow(/the bare wildcard allows every host/);
    expect(() => ExternalHost.of('API.example.com')).toThrow(/upper-case/);
    expect(() => ExternalHost.of('API.example.com')).toThrow(/upper-case/);
  });

  test('a host cannot be changed from JavaScript (the one object serves every use of its name)', () => {
    const host = ExternalHost.of('api.mutable.example');
    expect(() => Object.assign(host, { name: '*', isWildcard: true, isAnyHost: true, domain: '' })).toThrow(TypeError);
    expect(ExternalHost.of('api.mutable.example')).toMatchObject({ name: 'api.mutable.example', isWildcard: false, isAnyHost: false, domain: 'api.mutable.example' });
  });
});

describe('ExternalHost | invalid hosts fail with the value and the fix', () => {
  test.each([
    // H1: empty, length, label syntax
    ['', 'a host must not be empty; give a DNS name such as "api.example.com" or "*.example.com"'],
    [' api.example.com', 'remove the surrounding white space ("api.example.com")'],
    [`${'a'.repeat(64)}.com`, `label "${'a'.repeat(64)}" is 64 characters long; a DNS label has at most 63`],
    [[...Array(4)].map(() => 'a'.repeat(63)).join('.') + '.com', 'domain name is 259 characters long; the maximum is 255'],
    ['foo..example.com', 'empty label (two dots in a row, or a leading dot)'],
    ['.example.com', 'empty label (two dots in a row, or a leading dot)'],
    ['-foo.example.com', 'label "-foo" must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit'],
    ['foo-.example.com', 'label "foo-" must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit'],
    ['foo_bar.example.com', 'label "foo_bar" must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit'],
    ['exa mple.com', 'label "exa mple" must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit'],
    ['bücher.example', 'label "bücher" must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit'],
    ['API.GitHub.com', 'label "API" contains upper-case letters; write it in lower case ("api")'],
    ['example.com.', 'remove the trailing dot ("example.com"): a TLS SNI never carries it, so it would never match'],
    ['*.example.com.', 'remove the trailing dot ("*.example.com"): a TLS SNI never carries it, so it would never match'],
    // H1: all-numeric TLD, IP addresses
    ['foo.123', 'top level domain "123" cannot be all-numeric (IP addresses are not host names; use a DNS name)'],
    ['10.0.0.1', 'top level domain "1" cannot be all-numeric (IP addresses are not host names; use a DNS name)'],
    ['*.10', 'top level domain "10" cannot be all-numeric (IP addresses are not host names; use a DNS name)'],
    ['2001:db8::1', 'a host must not carry a port or be an IPv6 address; give the DNS name alone and declare ports separately'],
    ['api.example.com:443', 'a host must not carry a port or be an IPv6 address; give the DNS name alone and declare ports separately'],
    ['https://api.example.com', 'a host is a DNS name, not a URL; remove the scheme and path (e.g. "api.example.com")'],
    ['api.example.com/v1', 'a host is a DNS name, not a URL; remove the scheme and path (e.g. "api.example.com")'],
    // H2/H3: wildcards
    ['*foo.example.com', 'a wildcard must be the whole leftmost label, as in "*.example.com" (partial wildcards are not allowed)'],
    ['*-foo.example.com', 'a wildcard must be the whole leftmost label, as in "*.example.com" (partial wildcards are not allowed)'],
    ['**.example.com', 'a wildcard must be the whole leftmost label, as in "*.example.com" (partial wildcards are not allowed)'],
    ['foo*.example.com', 'a wildcard is only allowed as the whole leftmost label, as in "*.example.com"'],
    ['f*o.example.com', 'a wildcard is only allowed as the whole leftmost label, as in "*.example.com"'],
    ['foo.*.example.com', 'a wildcard is only allowed as the whole leftmost label, as in "*.example.com"'],
    ['example.*', 'a wildcard is only allowed as the whole leftmost label, as in "*.example.com"'],
    ['*.*.example.com', 'a wildcard is only allowed as the whole leftmost label, as in "*.example.com"'],
    ['*.', 'remove the trailing dot ("*"): a TLS SNI never carries it, so it would never match'],
    // H4: short names
    ['example', 'short names are not allowed; an external host must be a fully qualified name such as "example.com"'],
    ['localhost', 'short names are not allowed; an external host must be a fully qualified name such as "localhost.com"'],
    // bare wildcard without opt-in
    ['*', 'the bare wildcard allows every host on the internet; list the domains you need (e.g. "*.example.com"), or opt in explicitly with allowAnyHost and read its risks (ExternalHostOptions.allowAnyHost in API.md)'],
  ])('fails for %j', (name, message) => {
    expect(() => ExternalHost.of(name)).toThrow(`invalid host ${JSON.stringify(name)}: ${message}`);
  });

  test('fails for a value that is not a string (from another language)', () => {
    expect(() => ExternalHost.of(undefined as any)).toThrow('invalid host undefined: a host must be a string such as "api.example.com"');
    expect(() => ExternalHost.of(42 as any)).toThrow('invalid host 42: a host must be a string');
  });
});

describe('ExternalHost | matching and overlap', () => {
  const wild = ExternalHost.of('*.a.com');

  test.each([
    ['b.a.com', true],
    ['c.b.a.com', true],
    ['a.com', false],
    ['ba.com', false],
    ['b.a.com.evil.org', false],
    ['xa.com', false],
  ])('*.a.com matches %s: %s', (name, expected) => {
    expect(wild.matches(name)).toBe(expected);
  });

  test('an exact host matches only itself', () => {
    const exact = ExternalHost.of('api.a.com');
    expect(exact.matches('api.a.com')).toBe(true);
    expect(exact.matches('x.api.a.com')).toBe(false);
  });

  test.each([
    ['*.a.com', 'b.a.com', true, false],
    ['*.a.com', '*.b.a.com', true, false],
    ['*.a.com', '*.a.com', true, true],
    ['*.a.com', 'a.com', false, false],
    ['*.a.com', '*.ba.com', false, false],
    ['b.a.com', 'b.a.com', true, true],
    ['b.a.com', 'c.a.com', false, false],
    ['*.com', '*.a.com', true, false],
  ])('%s covers %s: %s (reverse %s)', (a, b, forward, backward) => {
    const ha = ExternalHost.of(a);
    const hb = ExternalHost.of(b);
    expect(ha.covers(hb)).toBe(forward);
    expect(hb.covers(ha)).toBe(backward);
    expect(ha.overlaps(hb)).toBe(forward || backward);
  });

  test('the bare wildcard covers everything and nothing but itself covers it', () => {
    const any = ExternalHost.of('*', { allowAnyHost: true });
    expect(any.covers(wild)).toBe(true);
    expect(wild.covers(any)).toBe(false);
  });
});

describe('HostSet', () => {
  test('sorts and merges exact duplicates', () => {
    // GIVEN
    const set = new HostSet(['*.wikipedia.org', 'api.github.com', '*.wikipedia.org'].map((h) => ExternalHost.of(h)));
    // THEN
    expect(set.names).toEqual(['*.wikipedia.org', 'api.github.com']);
    expect(set.size).toBe(2);
    expect(set.matches('en.wikipedia.org')).toBe(true);
    expect(set.matches('github.com')).toBe(false);
  });

  test('fails for overlapping hosts, naming both and the fix', () => {
    const set = new HostSet([ExternalHost.of('*.a.com')]);
    expect(() => set.add(ExternalHost.of('b.a.com'))).toThrow(
      'invalid host "b.a.com": it overlaps "*.a.com" ("*.a.com" already matches "b.a.com"); Istio rejects overlapping hosts in one VirtualService, so keep only "*.a.com" or replace it with exact names',
    );
    const other = new HostSet([ExternalHost.of('b.a.com')]);
    expect(() => other.add(ExternalHost.of('*.a.com'))).toThrow('"*.a.com" already matches "b.a.com"');
  });
});

describe('ExternalHost | properties', () => {
  const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  const tld = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
  const exactName = fc.tuple(fc.array(label, { minLength: 1, maxLength: 4 }), tld).map(([ls, t]) => [...ls, t].join('.')).filter((n) => n.length <= 255);

  test('every well-formed name parses, round-trips, and its wildcard form covers its subdomains', () => {
    fc.assert(
      fc.property(exactName, label, (name, sub) => {
        const host = ExternalHost.of(name);
        expect(host.name).toEqual(name);
        expect(host.isWildcard).toBe(false);
        if (name.length + 2 <= 255) {
          const wild = ExternalHost.of(`*.${name}`);
          expect(wild.domain).toEqual(name);
          expect(wild.covers(host)).toBe(false);
          expect(wild.matches(name)).toBe(false);
          if (sub.length + name.length + 1 <= 255) {
            const child = ExternalHost.of(`${sub}.${name}`);
            expect(wild.covers(child)).toBe(true);
            expect(wild.matches(child.name)).toBe(true);
          }
        }
      }),
    );
  });

  test('any string either parses into a valid host or fails with a message that quotes it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[*a-zA-Z0-9.\-_:/ ]{0,30}$/)), (raw) => {
        let host: ExternalHost | undefined;
        try {
          host = ExternalHost.of(raw);
        } catch (e) {
          expect((e as Error).message).toMatch(/^ExternalHost\.of\(/);
          expect((e as Error).message).toContain(`: invalid host ${JSON.stringify(raw)}: `);
          return;
        }
        // a parsed host satisfies Istio's rules
        expect(host.name.length).toBeLessThanOrEqual(255);
        expect(host.name).not.toMatch(/\.$/);
        expect(host.name.slice(host.isWildcard ? 2 : 0)).toMatch(/^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
        expect(host.name.lastIndexOf('*')).toBeLessThanOrEqual(0);
      }),
    );
  });

  test('matches agrees with covers for exact names', () => {
    fc.assert(
      fc.property(exactName, exactName, (a, b) => {
        const wild = ExternalHost.of(`*.${a}`.slice(0, 255).replace(/\.$/, ''));
        const exact = ExternalHost.of(b);
        expect(wild.matches(exact.name)).toBe(wild.covers(exact));
      }),
    );
  });

  test('a HostSet never holds two overlapping hosts, and its order does not depend on insertion order', () => {
    const hostArb = fc.oneof(exactName, exactName.map((n) => `*.${n}`)).filter((n) => n.length <= 255);
    let refused = 0;
    fc.assert(
      fc.property(fc.array(hostArb, { maxLength: 12 }), (names) => {
        const set = new HostSet();
        const accepted: string[] = [];
        for (const n of names) {
          try {
            set.add(ExternalHost.of(n));
            accepted.push(n);
          } catch (e) {
            refused++;
            expect((e as Error).message).toMatch(/^invalid host "[^"]+": it overlaps "[^"]+"/);
          }
        }
        const hosts = set.hosts;
        for (let i = 0; i < hosts.length; i++) {
          for (let j = i + 1; j < hosts.length; j++) {
            expect(hosts[i].overlaps(hosts[j])).toBe(false);
          }
        }
        const reversed = new HostSet([...accepted].reverse().map((n) => ExternalHost.of(n)));
        expect(reversed.names).toEqual(set.names);
      }),
      // random names rarely overlap, so the first run does
      { examples: [[['b.a.com', '*.a.com', 'a.com', 'c.b.a.com']]] },
    );
    expect(refused).toBeGreaterThan(0);
  });

  test('HostSet accepts a host exactly when it overlaps none of the hosts accepted before (same as checking every pair)', () => {
    // short labels from a small alphabet, so overlaps are frequent
    const smallLabel = fc.constantFrom('a', 'b', 'c', 'ab');
    const name = fc.array(smallLabel, { minLength: 2, maxLength: 4 }).map((ls) => ls.join('.'));
    const hostArb = fc.oneof(name, name.map((n) => `*.${n}`));
    fc.assert(
      fc.property(fc.array(hostArb, { maxLength: 15 }), (names) => {
        const set = new HostSet();
        const accepted: ExternalHost[] = [];
        for (const n of names) {
          const host = ExternalHost.of(n);
          const expected = accepted.some((a) => a.name === host.name) || !accepted.some((a) => a.overlaps(host));
          let ok = true;
          try {
            set.add(host);
          } catch {
            ok = false;
          }
          expect(ok).toBe(expected);
          if (ok && !accepted.some((a) => a.name === host.name)) {
            accepted.push(host);
          }
        }
        // matches agrees with the hosts one by one
        for (const probe of ['a.b', 'x.a.b', 'a.b.c', 'c.ab.a', 'b.c.a.b']) {
          expect(set.matches(probe)).toBe(accepted.some((h) => h.matches(probe)));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('HostIndex (the one domain-suffix index)', () => {
  const label = fc.constantFrom('a', 'b', 'api', 'x');
  const hostArb = fc
    .tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom('example.com', 'com', 'example.org'))
    .map(([wild, labels, d]) => ExternalHost.of(wild ? `*.${[...labels.slice(1), d].join('.')}` : [...labels, d].join('.')));

  test('overlapping() finds exactly the hosts a pairwise check finds, coveredBy() exactly the strictly covered ones', () => {
    fc.assert(
      fc.property(fc.array(hostArb, { maxLength: 30 }), hostArb, (hosts, probe) => {
        const index = new HostIndex<ExternalHost>();
        hosts.forEach((h) => index.add(h, h));
        const names = (list: ExternalHost[]) => [...new Set(list.map((h) => h.name))].sort();
        expect(names(index.overlapping(probe))).toEqual(names(hosts.filter((h) => h.overlaps(probe))));
        expect(names(index.coveredBy(probe))).toEqual(names(hosts.filter((h) => probe.isWildcard && probe.covers(h) && h.name !== probe.name)));
      }),
      { numRuns: 300 },
    );
  });
});
