/* eslint-disable no-bitwise -- address and prefix arithmetic is bit arithmetic: masks, shifts and ORs on bigints */
/**
 * IP address ranges (CIDRs) as Kubernetes NetworkPolicy `ipBlock`s use them: parsing with the rules of Go's
 * `net.ParseCIDR` (which the API server uses), plus the checks the API server leaves to luck (a missing prefix length,
 * bits set after the prefix), containment and the `except` rules of `ValidateIPBlock`.
 *
 * Internal: the public API takes CIDRs as strings and reports problems with the construct path and field.
 */

/** An IPv4 or IPv6 network: address family, network address (host bits zero) and prefix length. */
export class Cidr {
  /**
   * Parses `a.b.c.d/n` or an IPv6 CIDR (`fc00::/7`, `::/0`).
   *
   * @throws with the bad value and the fix: a missing prefix length (`10.0.0.1` -> "did you mean 10.0.0.1/32"),
   * a prefix length out of range (`/33`), a malformed address, or bits set after the prefix (`10.0.0.1/8`)
   */
  public static parse(text: string): Cidr {
    if (typeof text !== 'string' || text.trim().length === 0) {
      throw new Error(`CIDR ${JSON.stringify(text)} must be a non-empty string such as "10.0.0.0/8" or "fc00::/7"`);
    }
    if (text !== text.trim()) {
      throw new Error(`CIDR ${JSON.stringify(text)} has surrounding whitespace; write "${text.trim()}"`);
    }
    const slash = text.indexOf('/');
    if (slash < 0) {
      const address = parseAddress(text);
      if (address === undefined) {
        throw new Error(`"${text}" is not a CIDR (an IPv4 or IPv6 address with a prefix length, e.g. "10.0.0.0/8")`);
      }
      const bits = address.family === 4 ? 32 : 128;
      throw new Error(`"${text}" has no prefix length; did you mean "${text}/${bits}" (that one address)?`);
    }
    const addressText = text.slice(0, slash);
    const prefixText = text.slice(slash + 1);
    const address = parseAddress(addressText);
    if (address === undefined) {
      throw new Error(`"${text}" is not a valid CIDR: "${addressText}" is not an IPv4 or IPv6 address`);
    }
    const bits = address.family === 4 ? 32 : 128;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
      throw new Error(
        `"${text}" is not a valid CIDR: the prefix length "${prefixText}" must be a whole number 0..${bits} for an IPv${address.family} address`,
      );
    }
    const prefix = Number(prefixText);
    const network = address.value & prefixMask(prefix, bits);
    if (network !== address.value) {
      const fixed = new Cidr(address.family, network, prefix);
      throw new Error(
        `"${text}" has address bits set after the /${prefix} prefix; did you mean "${fixed}" (the network), or "${addressText}/${bits}" (that one address)?`,
      );
    }
    return new Cidr(address.family, network, prefix);
  }

  /** The canonical text, made on first use (a Cidr is immutable). */
  private text?: string;

  private constructor(
    /** 4 or 6. */
    public readonly family: 4 | 6,
    /** The network address as an unsigned integer (host bits zero). */
    public readonly network: bigint,
    /** Prefix length. */
    public readonly prefix: number,
  ) {}


  /** 32 or 128. */
  public get bits(): number {
    return this.family === 4 ? 32 : 128;
  }

  /** The last address of the range. */
  public get last(): bigint {
    return this.network | (~prefixMask(this.prefix, this.bits) & allOnes(this.bits));
  }

  /** How many addresses the range holds (2^(bits - prefix)). */
  public get size(): bigint {
    return 1n << BigInt(this.bits - this.prefix);
  }

  /** Whether every address of `other` is in this range (same family). */
  public contains(other: Cidr): boolean {
    return other.family === this.family && other.prefix >= this.prefix && (other.network & prefixMask(this.prefix, this.bits)) === this.network;
  }

  /** Whether `other` is inside this range and smaller: what Kubernetes requires of an `except` entry. */
  public strictlyContains(other: Cidr): boolean {
    return this.contains(other) && other.prefix > this.prefix;
  }

  /** Whether the two ranges share an address. */
  public overlaps(other: Cidr): boolean {
    return this.contains(other) || other.contains(this);
  }

  /** Canonical form: dotted quad for IPv4; RFC 5952 (lower case, longest zero run compressed) for IPv6. */
  public toString(): string {
    if (this.text === undefined) {
      this.text = `${this.family === 4 ? formatIpv4(this.network) : formatIpv6(this.network)}/${this.prefix}`;
    }
    return this.text;
  }
}

/**
 * Parses an ipBlock: the CIDR and its `except` ranges, each of the same family and a strict subset of the CIDR (what
 * the API server requires), with no duplicates.
 *
 * @returns the parsed ranges
 * @throws with the offending entry (`except[1]`) and the fix
 * @internal
 */
export function parseIpBlock(cidr: string, except: string[] = []): { cidr: Cidr; except: Cidr[] } {
  const block = Cidr.parse(cidr);
  const seen = new Set<string>();
  const parsed = except.map((text, i) => {
    let range: Cidr;
    try {
      range = Cidr.parse(text);
    } catch (e) {
      throw new Error(`except[${i}]: ${(e as Error).message}`);
    }
    if (range.family !== block.family) {
      throw new Error(`except[${i}]: "${range}" is IPv${range.family} but the CIDR "${block}" is IPv${block.family}; an except range must be of the same family`);
    }
    if (!block.strictlyContains(range)) {
      throw new Error(
        `except[${i}]: "${range}" is not a strict subset of "${block}"; an except range must lie inside the CIDR and be smaller (Kubernetes rejects it otherwise)`,
      );
    }
    if (seen.has(range.toString())) {
      throw new Error(`except[${i}]: "${range}" is listed twice; remove one`);
    }
    seen.add(range.toString());
    return range;
  });
  return { cidr: block, except: parsed };
}

interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
}

function allOnes(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** The network masks by address width and prefix length, computed once (containment checks are on hot paths). */
const PREFIX_MASKS: { readonly [bits: number]: readonly bigint[] } = {
  32: Array.from({ length: 33 }, (_, prefix) => allOnes(32) ^ allOnes(32 - prefix)),
  128: Array.from({ length: 129 }, (_, prefix) => allOnes(128) ^ allOnes(128 - prefix)),
};

function prefixMask(prefix: number, bits: number): bigint {
  return PREFIX_MASKS[bits][prefix];
}

function parseAddress(text: string): Address | undefined {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

/** Dotted quad, each octet 0..255 in decimal without leading zeros (Go rejects them: they used to mean octal). */
function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) {
    return undefined;
  }
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) {
      return undefined;
    }
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

/** IPv6 text form (RFC 4291 2.2): eight groups of 1-4 hex digits, one `::` for one or more zero groups, an optional IPv4 tail. No zone. */
function parseIpv6(text: string): bigint | undefined {
  if (text.includes('%')) {
    return undefined;
  }
  const halves = text.split('::');
  if (halves.length > 2) {
    return undefined;
  }
  const groups = (half: string): bigint[] | undefined => {
    if (half.length === 0) {
      return [];
    }
    const parts = half.split(':');
    const out: bigint[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) {
          return undefined;
        }
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(BigInt(`0x${part}`));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) {
    return undefined;
  }
  // An IPv4 tail is only allowed at the very end.
  if (halves.length === 2 && halves[0].includes('.')) {
    return undefined;
  }
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) {
    return undefined;
  }
  const all = [...head, ...new Array<bigint>(8 - count).fill(0n), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function formatIpv6(value: bigint): string {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((value >> shift) & 0xffffn));
  // The longest run of two or more zero groups (the first one on a tie) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) {
      j++;
    }
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) {
    return hex(groups);
  }
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
