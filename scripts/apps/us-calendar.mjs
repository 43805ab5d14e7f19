// The calendar covariates of a day, known in advance: weekday one-hot, day of the year as sin/cos,
// and US federal holidays computed by rule (the rules in force 1969–1988: the Uniform Monday Holiday
// Act moved Washington's Birthday, Memorial Day and Columbus Day to Mondays from 1971, and Veterans
// Day to the fourth Monday of October for 1971–1977; Martin Luther King Day from 1986). Holidays are
// marked on their date (not on an observed Friday/Monday), with the day before and after each.
//   calendarFeatures(year, month, day) → number[] (CALENDAR_NAMES.length values)

const HOLIDAYS = ['new-year', 'mlk', 'washington', 'memorial', 'independence', 'labor', 'columbus', 'veterans', 'thanksgiving', 'christmas'];
export const CALENDAR_NAMES = [
  ...['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], 'doy-sin', 'doy-cos',
  ...HOLIDAYS, 'before-holiday', 'after-holiday', 'dec-24-31',
];

const day = (y, m, d) => Date.UTC(y, m - 1, d) / 86_400_000;
/** The n-th (1-based) weekday wd (0 = Sunday) of a month, as a day number. */
function nth(y, m, wd, n) {
  const first = day(y, m, 1);
  const offset = (wd - new Date(first * 86_400_000).getUTCDay() + 7) % 7;
  return first + offset + 7 * (n - 1);
}
/** The last weekday wd of a month. */
function last(y, m, wd) {
  const end = day(y, m + 1, 1) - 1;
  return end - ((new Date(end * 86_400_000).getUTCDay() - wd + 7) % 7);
}

/** The day numbers of the federal holidays of one year, in HOLIDAYS order (null when not yet a holiday). */
export function federalHolidays(y) {
  const monday = y >= 1971;
  return [
    day(y, 1, 1),
    y >= 1986 ? nth(y, 1, 1, 3) : null,
    monday ? nth(y, 2, 1, 3) : day(y, 2, 22),
    monday ? last(y, 5, 1) : day(y, 5, 30),
    day(y, 7, 4),
    nth(y, 9, 1, 1),
    monday ? nth(y, 10, 1, 2) : day(y, 10, 12),
    y >= 1971 && y <= 1977 ? nth(y, 10, 1, 4) : day(y, 11, 11),
    nth(y, 11, 4, 4),
    day(y, 12, 25),
  ];
}

const cache = new Map();
function holidaysAround(y) {
  if (!cache.has(y)) cache.set(y, [...federalHolidays(y - 1), ...federalHolidays(y), ...federalHolidays(y + 1)].filter((d) => d !== null));
  return cache.get(y);
}

export function calendarFeatures(y, m, d) {
  const t = day(y, m, d);
  const wd = new Date(t * 86_400_000).getUTCDay();
  const doy = t - day(y, 1, 1);
  const own = federalHolidays(y);
  const around = holidaysAround(y);
  return [
    ...Array.from({ length: 7 }, (_, k) => (k === wd ? 1 : 0)),
    Math.sin((2 * Math.PI * doy) / 365.25), Math.cos((2 * Math.PI * doy) / 365.25),
    ...own.map((h) => (h === t ? 1 : 0)),
    around.includes(t + 1) ? 1 : 0,
    around.includes(t - 1) ? 1 : 0,
    m === 12 && d >= 24 ? 1 : 0,
  ];
}
