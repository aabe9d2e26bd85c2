// ipvsadm -L --stats and --rate columns, byte for byte (ipvsadm.c print_title, print_service_entry and
// print_largenum). Pure text over labels already spelled (numeric or named) and raw counters.

const COUNTERS = ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'];
const RATES = ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'];

/** A counter as an unsigned integer (the daemon's estimates may carry fractions; the kernel's do not). */
const whole = (v: number | undefined): bigint => {
  const n = Math.round(Number(v ?? 0));
  return n > 0 && Number.isFinite(n) ? BigInt(n) : 0n;
};

/**
 * print_largenum: below 10^8 the number in 9 columns; then thousands (K) below 10^9, millions (M) below 10^11,
 * billions (G) below 10^14, trillions (T) above, in 8 columns plus the letter. --exact: the whole number,
 * at least 9 columns and always one space before it.
 */
export function largenum(v: number | undefined, exact = false): string {
  const i = whole(v);
  const s = i.toString();
  if (exact) return s.padStart(s.length <= 8 ? 9 : s.length + 1);
  if (i < 100_000_000n) return s.padStart(9);
  if (i < 1_000_000_000n) return `${(i / 1000n).toString().padStart(8)}K`;
  if (i < 100_000_000_000n) return `${(i / 1_000_000n).toString().padStart(8)}M`;
  if (i < 100_000_000_000_000n) return `${(i / 1_000_000_000n).toString().padStart(8)}G`;
  return `${(i / 1_000_000_000_000n).toString().padStart(8)}T`;
}

const title = (cols: string[]): string[] => [
  `${'Prot LocalAddress:Port'.padEnd(33)} ${cols.map((c) => c.padStart(8)).join(' ')}`,
  '  -> RemoteAddress:Port',
];

export const statsTitle = (): string[] => title(COUNTERS);
export const rateTitle = (): string[] => title(RATES);

const five = (v: number[] | undefined, exact: boolean): string => [0, 1, 2, 3, 4].map((k) => largenum(v?.[k], exact)).join('');

/** A service row: the label in 33 columns, then the five counters (no scheduler, no flags). */
export const statsServiceRow = (label: string, stats: number[] | undefined, exact: boolean): string =>
  `${label.padEnd(33)}${five(stats, exact)}`;

/** A real server row: "  -> " and the label in 28 columns, then the five counters. */
export const statsDestRow = (label: string, stats: number[] | undefined, exact: boolean): string =>
  `  -> ${label.padEnd(28)}${five(stats, exact)}`;

export const rateServiceRow = statsServiceRow;

/** A real server's rates: CPS, InPPS and OutPPS as plain "%8llu" (never K/M), the byte rates as print_largenum. */
export function rateDestRow(label: string, rates: number[] | undefined, exact: boolean): string {
  const raw = [0, 1, 2].map((k) => ` ${whole(rates?.[k]).toString().padStart(8)}`).join('');
  return `  -> ${label.padEnd(28)}${raw}${largenum(rates?.[3], exact)}${largenum(rates?.[4], exact)}`;
}
