// Kubernetes resource.Quantity as numbers: the API server hands back canonical forms ("571400u"
// for 0.5714, "12500m" for 12.5), so values we sent must be compared as numbers, not strings.
const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

/** The number a Quantity stands for; NaN when it is not one. */
export function parseQuantity(value: string | number): number {
  if (typeof value === "number") return value;
  const match = QUANTITY.exec(value.trim());
  if (!match) return Number.NaN;
  const [, digits, exponent, suffix = ""] = match;
  return exponent ? Number(`${digits}${exponent}`) : Number(digits) * SUFFIXES[suffix]!;
}

/** A decimal Quantity for a number: plain when whole, in milli-units otherwise (rounded up, as MilliValue does). */
export function formatQuantity(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const milli = Math.ceil(value * 1000 - 1e-9);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** A tolerance: a decimal fraction with up to 4 places ("0.5714"), as written in a manifest. */
export function formatFraction(value: number): string {
  return String(Number(value.toFixed(4)));
}
