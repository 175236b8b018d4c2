/**
 * Numbers as Prometheus reads them: Go's strconv.ParseFloat, which Prometheus uses for bucket
 * bounds (`le`) in histogram_quantile, and the stricter form its text parsers use for sample
 * values (no `p`, `P` or `_`: "keep to pre-Go 1.13 float formats").
 *
 * ParseFloat, as checked against Prometheus 2.42: decimal with optional sign, point and exponent;
 * "_" only between digits (so `1_0` is 10, `_1` and `1__0` are not numbers); hexadecimal only with
 * a `p` exponent (`0x1p-2` is 0.25, `0x10` is not a number); no `0b`/`0o` prefixes; `Inf`,
 * `Infinity` (either with a sign) and `NaN` in any case; no blanks; a finite literal too large
 * for a double is an error, one too small is 0.
 */

/** A sample value as the text format reads it, or undefined if Prometheus rejects it. */
export function parseSampleValue(text: string): number | undefined {
  return /[pP_]/.test(text) ? undefined : parseGoFloat(text);
}

/** Go's strconv.ParseFloat(text, 64), or undefined where it returns an error. */
export function parseGoFloat(text: string): number | undefined {
  return special(text) ?? (/^[+-]?0[xX]./.test(text) ? hexadecimal(text) : decimal(text));
}

function special(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  const unsigned = lower.replace(/^[+-]/, '');
  if (unsigned !== 'inf' && unsigned !== 'infinity') return undefined;
  return lower.startsWith('-') ? -Infinity : Infinity;
}

const DECIMAL = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9][0-9_]*)?$/;

function decimal(text: string): number | undefined {
  if (!DECIMAL.test(text) || !/[0-9]/.test(text.replace(/[eE].*/, '')) || !underscoresOk(text)) return undefined;
  // The syntax is checked: what is left is a JavaScript decimal literal, rounded the same way.
  const value = Number(text.replaceAll('_', ''));
  return Number.isFinite(value) ? value : undefined;
}

const HEXADECIMAL = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9][0-9_]*)$/;

function hexadecimal(text: string): number | undefined {
  const match = HEXADECIMAL.exec(text);
  if (!match || !underscoresOk(text)) return undefined;
  const [, sign, whole = '', fraction = '', exponent = ''] = match;
  const digits = (whole + fraction).replaceAll('_', '');
  if (digits === '') return undefined;
  const value = scaleByPowerOfTwo(BigInt(`0x${digits}`), Number(exponent.replaceAll('_', '')) - 4 * fraction.replaceAll('_', '').length);
  if (!Number.isFinite(value)) return undefined;
  return sign === '-' ? -value : value;
}

/** `mantissa × 2^exponent` rounded once to the nearest double (ties to even), as Go does. */
function scaleByPowerOfTwo(mantissa: bigint, exponent: number): number {
  if (mantissa === 0n) return 0;
  const excess = mantissa.toString(2).length - 53;
  if (excess > 0) {
    const dropped = mantissa & ((1n << BigInt(excess)) - 1n);
    const half = 1n << BigInt(excess - 1);
    mantissa >>= BigInt(excess);
    if (dropped > half || (dropped === half && (mantissa & 1n) === 1n)) mantissa += 1n;
    exponent += excess;
  }
  // Exact until the last step, which rounds once (into a subnormal or to Infinity).
  let value = Number(mantissa);
  while (exponent > 0) {
    const step = Math.min(exponent, 1000);
    value *= 2 ** step;
    exponent -= step;
  }
  while (exponent < 0) {
    const step = Math.max(exponent, -1000);
    value *= 2 ** step;
    exponent -= step;
  }
  return value;
}

/** Go's underscoreOK: an underscore only between digits, or between a base prefix and a digit. */
function underscoresOk(text: string): boolean {
  if (!text.includes('_')) return true;
  let rest = text.replace(/^[+-]/, '');
  let saw = '^';
  let hex = false;
  if (/^0[bBoOxX]/.test(rest)) {
    hex = /^0[xX]/.test(rest);
    rest = rest.slice(2);
    saw = '0';
  }
  for (const ch of rest) {
    if (/[0-9]/.test(ch) || (hex && /[a-fA-F]/.test(ch))) saw = '0';
    else if (ch === '_') {
      if (saw !== '0') return false;
      saw = '_';
    } else if (saw === '_') return false;
    else saw = '!';
  }
  return saw !== '_';
}
