/**
 * A syntax checker for RE2 as Go's `regexp` package parses it (`regexp/syntax`, Perl flags, which `regexp.Compile`
 * uses). Istio compiles EnvoyFilter `match.proxy.proxyVersion` with Go's `regexp.Compile`
 * (`pkg/config/validation/envoyfilter/envoyfilter.go` 96-97) and refuses the whole EnvoyFilter when it fails, while
 * JavaScript's `RegExp` accepts lookaround and backreferences and rejects `(?P<name>x)` and `(?i)`, which Go accepts.
 * So a JavaScript `RegExp` cannot stand in for Go's parser.
 *
 * The checker follows Go 1.22+ (named groups `(?P<name>x)` and `(?<name>x)`), checked against Go's own parser on the
 * table in `test/fixtures/re2-go.json` (made by `scripts/re2-oracle.go`). It is stricter than Go in one place: in
 * `\p{...}` it knows only the Unicode general categories (`\pL`, `\p{Lu}`, ...) and `Any`, not scripts.
 * Expressions large enough to hit Go's size limits (`expression too large`, a program of over 128 MiB) are not
 * modelled; the nesting limit (1000) and the repeat-count limit (1000, also across nested counted repeats) are.
 */

/** Unicode general categories Go's `unicode.Categories` has, plus `Any`. */
const UNICODE_CLASSES = new Set([
  'Any', 'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

const POSIX_CLASSES = new Set(['alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit']);

const MAX_REPEAT = 1000;
const MAX_NESTING = 1000;

/** What a parse position holds as the operand a repetition would apply to. */
type Last = { kind: 'none' } | { kind: 'pseudo' } | { kind: 'atom'; product: number };

interface Frame {
  /** Largest nested counted-repeat product among finished branches and atoms of this group. */
  product: number;
  last: Last;
}

class Re2Error extends Error {
  public constructor(
    public readonly offset: number,
    public readonly detail: string,
    public readonly fix: string,
  ) {
    super(detail);
  }
}

/**
 * Why Go's `regexp.Compile` would refuse `pattern`, as one sentence with the offset and a fix, or undefined if it
 * compiles.
 *
 * @internal
 */
export function re2Problem(pattern: string): string | undefined {
  try {
    checkRe2(pattern);
    return undefined;
  } catch (e) {
    if (e instanceof Re2Error) {
      return `${e.detail} at offset ${e.offset}; ${e.fix}`;
    }
    throw e;
  }
}

const isOctal = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c);
const isAlnum = (c: string) => /^[0-9A-Za-z]$/.test(c);

function checkRe2(s: string): void {
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(s);
  if (lone) {
    throw new Re2Error(lone.index, 'a lone UTF-16 surrogate is not valid UTF-8', 'remove it');
  }
  const stack: Frame[] = [{ product: 1, last: { kind: 'none' } }];
  const top = () => stack[stack.length - 1];
  const atom = (product: number = 1) => {
    const f = top();
    f.last = { kind: 'atom', product };
    f.product = Math.max(f.product, product);
  };
  let i = 0;
  let lastWasRepeat = false;
  while (i < s.length) {
    const c = s[i];
    let repeat = false;
    switch (c) {
      case '(': {
        if (s[i + 1] === '?') {
          i = perlGroup(s, i, stack);
        } else {
          pushGroup(stack, i);
          i += 1;
        }
        break;
      }
      case '|':
        top().last = { kind: 'pseudo' };
        i += 1;
        break;
      case ')': {
        if (stack.length < 2) {
          throw new Re2Error(i, 'unexpected ")" without an opening "("', 'remove it or escape it as "\\)"');
        }
        const done = stack.pop()!;
        top().last = { kind: 'atom', product: done.product };
        top().product = Math.max(top().product, done.product);
        i += 1;
        break;
      }
      case '^':
      case '$':
      case '.':
        atom();
        i += 1;
        break;
      case '[':
        i = charClass(s, i);
        atom();
        break;
      case '*':
      case '+':
      case '?':
        i = applyRepeat(s, i, i + 1, 0, 0, lastWasRepeat, top());
        repeat = true;
        break;
      case '{': {
        const counted = parseCount(s, i);
        if (!counted) {
          atom(); // a `{` that does not start a valid count is a literal
          i += 1;
          break;
        }
        const { min, max, end } = counted;
        if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
          throw new Re2Error(i, `invalid repeat count "${s.slice(i, end)}"`, `counts go up to ${MAX_REPEAT} and the minimum may not exceed the maximum`);
        }
        i = applyRepeat(s, i, end, min, max, lastWasRepeat, top());
        repeat = true;
        break;
      }
      case '\\':
        i = escape(s, i, atom);
        break;
      default:
        atom();
        i += c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdbff ? 2 : 1;
    }
    lastWasRepeat = repeat;
  }
  if (stack.length !== 1) {
    throw new Re2Error(s.length, 'missing closing ")"', 'close every group');
  }
}

function pushGroup(stack: Frame[], at: number): void {
  if (stack.length >= MAX_NESTING) {
    throw new Re2Error(at, `groups nest more than ${MAX_NESTING} deep`, 'flatten the expression');
  }
  stack[stack.length - 1].last = { kind: 'pseudo' };
  stack.push({ product: 1, last: { kind: 'pseudo' } });
}

/** `(?...`: named groups, flag groups, and the Perl/PCRE constructs RE2 leaves out. */
function perlGroup(s: string, i: number, stack: Frame[]): number {
  const t = s.slice(i);
  const lookaround: Array<[string, string]> = [
    ['(?=', 'lookahead "(?="'],
    ['(?!', 'negative lookahead "(?!"'],
    ['(?<=', 'lookbehind "(?<="'],
    ['(?<!', 'negative lookbehind "(?<!"'],
  ];
  for (const [prefix, what] of lookaround) {
    if (t.startsWith(prefix)) {
      throw new Re2Error(i, `${what} is not supported by RE2`, 'RE2 has no lookaround: match the versions you want positively, e.g. "^1\\.30\\.[1-9]"');
    }
  }
  if (t.startsWith('(?>')) {
    throw new Re2Error(i, 'atomic group "(?>" is not supported by RE2', 'use a plain group "(?:...)"');
  }
  const startsWithP = t.length > 4 && t[2] === 'P' && t[3] === '<';
  const startsWithName = t.length > 3 && t[2] === '<';
  if (startsWithP || startsWithName) {
    const end = t.indexOf('>');
    const name = end < 0 ? undefined : t.slice(startsWithP ? 4 : 3, end);
    if (name === undefined || !/^[A-Za-z0-9_]+$/.test(name)) {
      throw new Re2Error(i, `invalid named group "${end < 0 ? t : t.slice(0, end + 1)}"`, 'a group name is letters, digits and "_", as in "(?P<minor>[0-9]+)"');
    }
    pushGroup(stack, i);
    return i + end + 1;
  }
  // flags: (?i) (?i-m) (?s:...) ; anything else is a Perl construct RE2 does not have
  let j = i + 2;
  let negated = false;
  let sawFlag = false;
  while (j < s.length) {
    const c = s[j];
    if ('imsU'.includes(c)) {
      sawFlag = true;
    } else if (c === '-' && !negated) {
      negated = true;
      sawFlag = false;
    } else if ((c === ':' || c === ')') && !(negated && !sawFlag)) {
      if (c === ':') {
        pushGroup(stack, i);
      }
      return j + 1;
    } else {
      break;
    }
    j += 1;
  }
  const construct = s.slice(i, Math.min(j + 1, s.length));
  const known: Array<[RegExp, string]> = [
    [/^\(\?P=/, 'named backreference'],
    [/^\(\?P>/, 'subroutine call'],
    [/^\(\?'/, 'quoted group name'],
    [/^\(\?#/, 'comment group'],
    [/^\(\?\(/, 'conditional'],
    [/^\(\?[R0-9+&]/, 'recursion'],
    [/^\(\?\|/, 'branch reset'],
  ];
  const hit = known.find(([re]) => re.test(t));
  throw new Re2Error(
    i,
    hit ? `${hit[1]} "${hit[0].exec(t)![0]}" is not supported by RE2` : `"${construct}" is invalid or unsupported Perl syntax in RE2`,
    'RE2 groups are "(...)", "(?:...)", "(?P<name>...)" and flag groups such as "(?i)"',
  );
}

/** `*`, `+`, `?` or a count at `at`, ending at `end` (before an optional non-greedy `?`). */
function applyRepeat(s: string, at: number, end: number, min: number, max: number, lastWasRepeat: boolean, frame: Frame): number {
  let after = end;
  if (s[after] === '?') {
    after += 1;
  }
  if (lastWasRepeat) {
    throw new Re2Error(at, `a repetition operator cannot follow another ("${s.slice(at, after)}" after a repeat)`, 'RE2 has no possessive quantifiers; use one operator, e.g. "a*" or "a*?"');
  }
  const last = frame.last;
  if (last.kind !== 'atom') {
    throw new Re2Error(at, `"${s.slice(at, end)}" has nothing to repeat`, 'put it after a character or group, or escape it (e.g. "\\*")');
  }
  let product = last.product;
  if (s[at] === '{') {
    const m = max < 0 ? min : max;
    product = m === 0 ? 1 : m * last.product;
    if ((min >= 2 || max >= 2) && product > MAX_REPEAT) {
      throw new Re2Error(at, `nested repeat counts multiply to ${product}`, `RE2 allows at most ${MAX_REPEAT} repetitions in total`);
    }
  }
  frame.last = { kind: 'atom', product };
  frame.product = Math.max(frame.product, product);
  return after;
}

/** `{n}`, `{n,}`, `{n,m}` at `i` as Go parses them (no leading zeros; numbers from 10^8 on count as too big), or undefined. */
function parseCount(s: string, i: number): { min: number; max: number; end: number } | undefined {
  const m = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(s.slice(i));
  if (!m) {
    return undefined;
  }
  const num = (d: string) => (d.length > 9 || Number(d) > 1e8 ? -1 : Number(d));
  let min = num(m[1]);
  let max = m[2] === undefined ? min : m[3] === undefined ? -1 : num(m[3]);
  if (m[3] !== undefined && max < 0) {
    min = -1;
  }
  if (m[2] === undefined && min < 0) {
    max = -1;
  }
  return { min, max, end: i + m[0].length };
}

/** A backslash escape outside a class; pushes the atom it is. */
function escape(s: string, i: number, atom: () => void): number {
  const c = s[i + 1];
  if (c === undefined) {
    throw new Re2Error(i, 'trailing backslash', 'escape it as "\\\\" or remove it');
  }
  switch (c) {
    case 'A':
    case 'b':
    case 'B':
    case 'z':
      atom();
      return i + 2;
    case 'C':
      throw new Re2Error(i, '"\\C" (any byte) is not supported by RE2', 'use "."');
    case 'Q': {
      const end = s.indexOf('\\E', i + 2);
      const literal = end < 0 ? s.slice(i + 2) : s.slice(i + 2, end);
      if (literal.length > 0) {
        atom();
      }
      return end < 0 ? s.length : end + 2;
    }
  }
  if (c === 'p' || c === 'P') {
    const end = unicodeClass(s, i);
    atom();
    return end;
  }
  if ('dDsSwW'.includes(c)) {
    atom();
    return i + 2;
  }
  const end = singleEscape(s, i);
  atom();
  return end;
}

/** `\p{Name}` or `\pL` at `i`; returns the index after it. */
function unicodeClass(s: string, i: number): number {
  let name: string;
  let end: number;
  if (s[i + 2] === '{') {
    const close = s.indexOf('}', i);
    if (close < 0) {
      throw new Re2Error(i, `unclosed Unicode class "${s.slice(i)}"`, 'close it with "}"');
    }
    name = s.slice(i + 3, close);
    end = close + 1;
  } else if (s[i + 2] === undefined) {
    throw new Re2Error(i, `"${s.slice(i)}" needs a class name`, 'e.g. "\\pL" or "\\p{Lu}"');
  } else {
    name = s[i + 2];
    end = i + 3;
  }
  if (!UNICODE_CLASSES.has(name.replace(/^\^/, ''))) {
    throw new Re2Error(i, `Unicode class "${s.slice(i, end)}" is unknown to this check`, 'use a general category such as "\\p{L}" or an explicit class such as "[a-z]"');
  }
  return end;
}

/** A single-character escape (`\n`, `\x41`, `\x{263a}`, `\0`, `\123`, `\.`) at `i`; returns the index after it. */
function singleEscape(s: string, i: number): number {
  const c = s[i + 1];
  if (c === undefined) {
    throw new Re2Error(i, 'trailing backslash', 'escape it as "\\\\" or remove it');
  }
  if (c.charCodeAt(0) < 0x80 && !isAlnum(c)) {
    return i + 2; // escaped punctuation is itself
  }
  if (c >= '1' && c <= '7' && !isOctal(s[i + 2])) {
    throw new Re2Error(i, `backreference "\\${c}" is not supported by RE2`, 'RE2 has no backreferences: repeat the group\'s pattern instead');
  }
  if (isOctal(c)) {
    let j = i + 2;
    for (let k = 1; k < 3 && isOctal(s[j]); k++) {
      j += 1;
    }
    return j;
  }
  if (c === 'x') {
    if (s[i + 2] === '{') {
      const m = /^\{([0-9A-Fa-f]+)\}/.exec(s.slice(i + 2));
      if (m && parseInt(m[1], 16) <= 0x10ffff) {
        return i + 2 + m[0].length;
      }
    } else if (isHex(s[i + 2]) && isHex(s[i + 3])) {
      return i + 4;
    }
    throw new Re2Error(i, `invalid hexadecimal escape "${s.slice(i, i + 4)}"`, 'write "\\x41" or "\\x{263a}"');
  }
  if ('afnrtv'.includes(c)) {
    return i + 2;
  }
  const hints: { [c: string]: string } = {
    k: 'RE2 has no named backreferences',
    g: 'RE2 has no backreferences or subroutine calls',
    Z: 'use "\\z" (end of text) or "$"',
    u: 'write "\\x{263a}" instead of "\\u263a"',
    c: 'write the control character as "\\x01"',
    G: 'RE2 has no "\\G"',
    K: 'RE2 has no "\\K"',
    8: 'RE2 has no backreferences',
    9: 'RE2 has no backreferences',
  };
  throw new Re2Error(i, `invalid escape "\\${c}"`, hints[c] ?? 'escape only punctuation, or use a supported escape such as "\\d", "\\s", "\\w", "\\b"');
}

/** `[...]` at `i`; returns the index after it. */
function charClass(s: string, i: number): number {
  let j = i + 1;
  if (s[j] === '^') {
    j += 1;
  }
  let first = true;
  while (j >= s.length || s[j] !== ']' || first) {
    if (j >= s.length) {
      throw new Re2Error(i, 'missing closing "]"', 'close the character class');
    }
    first = false;
    if (s[j] === '[' && s[j + 1] === ':') {
      const close = s.indexOf(':]', j + 2);
      if (close >= 0) {
        const name = s.slice(j + 2, close).replace(/^\^/, '');
        if (!POSIX_CLASSES.has(name)) {
          throw new Re2Error(j, `unknown POSIX class "${s.slice(j, close + 2)}"`, 'use e.g. "[[:digit:]]" or "[0-9]"');
        }
        j = close + 2;
        continue;
      }
    }
    if (s[j] === '\\' && (s[j + 1] === 'p' || s[j + 1] === 'P')) {
      j = unicodeClass(s, j);
      continue;
    }
    if (s[j] === '\\' && s[j + 1] !== undefined && 'dDsSwW'.includes(s[j + 1])) {
      j += 2;
      continue;
    }
    const lo = classChar(s, j, i);
    j = lo.end;
    if (s[j] === '-' && s[j + 1] !== undefined && s[j + 1] !== ']') {
      const hi = classChar(s, j + 1, i);
      if (hi.code < lo.code) {
        throw new Re2Error(lo.start, `invalid range "${s.slice(lo.start, hi.end)}" in a character class`, 'write the lower bound first, e.g. "[a-z]"');
      }
      j = hi.end;
    }
  }
  return j + 1;
}

function classChar(s: string, j: number, classStart: number): { code: number; start: number; end: number } {
  if (j >= s.length) {
    throw new Re2Error(classStart, 'missing closing "]"', 'close the character class');
  }
  if (s[j] === '\\') {
    const end = singleEscape(s, j);
    return { code: escapeCode(s.slice(j, end)), start: j, end };
  }
  const code = s.codePointAt(j)!;
  return { code, start: j, end: j + (code > 0xffff ? 2 : 1) };
}

/** The code point of a valid single-character escape. */
function escapeCode(esc: string): number {
  const c = esc[1];
  if (esc.length === 2 && !isAlnum(c)) {
    return esc.codePointAt(1)!;
  }
  if (isOctal(c)) {
    return parseInt(esc.slice(1), 8);
  }
  if (c === 'x') {
    return parseInt(esc.slice(2).replace(/[{}]/g, ''), 16);
  }
  return { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 }[c as 'a']!;
}
