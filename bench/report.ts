/** Turns summary rows into the Markdown tables of RESULTS.md and the SVG chart (no dependencies). */
import type { SummaryRow } from './summary.js';

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
/** A count with thousands separators, or – when not measured. */
export const thousands = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
/** A ratio as `1.23×`, or – when not measured. */
export const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

export function markdownTables(rows: SummaryRow[]): string {
  const lines: string[] = [];
  const busy = rows.filter((row) => row.scenario.events > 0);
  const idle = rows.filter((row) => row.scenario.events === 0);
  if (busy.length) {
    lines.push(
      'Burst: the emit loop broadcasts 10 events per event-loop turn, back to back.',
      '',
      '| scenario | subject | events/s | × node:http | p50 ms | p99 ms | max ms | server CPU µs/event | load generator busy | lost | out of order | errors |',
      '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    );
    for (const row of busy) {
      lines.push(
        `| ${row.scenario.label} | ${row.subject.label} | ${thousands(row.eventsPerSecond)} | ${ratio(row.throughputRatio)} | ` +
          `${fixed(row.p50Ms, 1)} | ${fixed(row.p99Ms, 1)} | ${fixed(row.maxMs, 1)} | ` +
          `${fixed(row.cpuMicrosPerEvent, 2)} | ${Number.isFinite(row.loaderBusy) ? `${Math.round(row.loaderBusy * 100)}%` : '–'} | ` +
          `${row.lost} | ${row.outOfOrder} | ${row.errors} |`,
      );
    }
    lines.push(
      '',
      'Paced: one event per emit turn, 50,000 deliveries/s in all (e.g. 1,000 clients × one event every 20 ms): latency without a backlog.',
      '',
      '| scenario | subject | p50 ms | p99 ms | p99 × node:http | max ms |',
      '|---|---|--:|--:|--:|--:|',
    );
    for (const row of busy) {
      lines.push(
        `| ${row.scenario.label} | ${row.subject.label} | ${fixed(row.pacedP50Ms, 2)} | ${fixed(row.pacedP99Ms, 2)} | ` +
          `${ratio(row.pacedP99Ratio)} | ${fixed(row.pacedMaxMs, 2)} |`,
      );
    }
    lines.push('');
  }
  if (idle.length) {
    lines.push(
      '| scenario | subject | RSS KB/connection | × node:http | heap KB/connection | errors |',
      '|---|---|--:|--:|--:|--:|',
    );
    for (const row of idle) {
      lines.push(
        `| ${row.scenario.label} | ${row.subject.label} | ${fixed(row.rssPerConnection / 1024, 1)} | ${ratio(row.rssRatio)} | ` +
          `${fixed(row.heapPerConnection / 1024, 1)} | ${row.errors} |`,
      );
    }
    lines.push('');
  }
  const notes = rows.flatMap((row) => row.notes.map((note) => `- ${row.subject.label}, ${row.scenario.label}: ${note}`));
  if (notes.length) lines.push('Problems seen:', '', ...notes, '');
  return lines.join('\n');
}

const PALETTE = ['#7f7f7f', '#d62728', '#ff7f0e', '#1f77b4', '#17becf', '#2ca02c', '#9467bd'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
  title: string;
  /** One group of bars per entry, one bar per subject. */
  groups: Array<{ label: string; values: Array<number | undefined> }>;
  format: (value: number) => string;
  /** A dashed reference line (1.0× for ratios). */
  reference?: number;
}

function panel(out: string[], p: Panel): void {
  const values = p.groups.flatMap((g) => g.values).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = Math.max(p.reference ?? 0, ...values, 1e-9) * 1.12;
  const y = (value: number) => p.y + p.h - (value / max) * p.h;
  out.push(`<text x="${p.x}" y="${p.y - 22}" font-size="14" font-weight="bold">${escape(p.title)}</text>`);
  out.push(`<line x1="${p.x}" x2="${p.x + p.w}" y1="${p.y + p.h}" y2="${p.y + p.h}" stroke="#333"/>`);
  if (p.reference !== undefined) {
    out.push(`<line x1="${p.x}" x2="${p.x + p.w}" y1="${y(p.reference)}" y2="${y(p.reference)}" stroke="#333" stroke-dasharray="5,3"/>`);
  }
  const groupWidth = p.w / Math.max(1, p.groups.length);
  p.groups.forEach((group, g) => {
    const barWidth = (groupWidth * 0.84) / Math.max(1, group.values.length);
    const gx = p.x + g * groupWidth + groupWidth * 0.08;
    group.values.forEach((value, s) => {
      if (value === undefined || !Number.isFinite(value)) return;
      const x = gx + s * barWidth;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(p.y + p.h - y(value)).toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"/>`,
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(y(value) - 4).toFixed(1)}" text-anchor="middle" font-size="9">${p.format(value)}</text>`,
      );
    });
    out.push(`<text x="${(gx + groupWidth * 0.42).toFixed(1)}" y="${p.y + p.h + 16}" text-anchor="middle" font-size="11">${escape(group.label)}</text>`);
  });
}

/** Three panels: events/s relative to node:http, server CPU per delivered event, RSS per idle connection. */
export function svgChart(rows: SummaryRow[], caption: string): string {
  const subjects = [...new Map(rows.map((row) => [row.subject.key, row.subject])).values()];
  const busy = [...new Map(rows.filter((r) => r.scenario.events > 0).map((r) => [r.scenario.key, r.scenario])).values()];
  const idle = [...new Map(rows.filter((r) => r.scenario.events === 0).map((r) => [r.scenario.key, r.scenario])).values()];
  const cell = (scenario: string, subject: string, pick: (row: SummaryRow) => number) => {
    const row = rows.find((r) => r.scenario.key === scenario && r.subject.key === subject);
    return row ? pick(row) : undefined;
  };
  const short = (label: string) => label.replace(' clients × ', ' × ').replace(' events', '').replace(' idle clients', ' idle');
  const width = 1240;
  const height = 470;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  panel(out, {
    x: 30, y: 60, w: 520, h: 300,
    title: 'Delivered events/s ÷ node:http (same run, burst)',
    groups: busy.map((sc) => ({ label: short(sc.label), values: subjects.map((su) => cell(sc.key, su.key, (r) => r.throughputRatio)) })),
    format: (v) => v.toFixed(2),
    reference: 1,
  });
  panel(out, {
    x: 600, y: 60, w: 400, h: 300,
    title: 'Server CPU per delivered event (µs; Redis ×2: both servers)',
    groups: busy.map((sc) => ({ label: short(sc.label), values: subjects.map((su) => cell(sc.key, su.key, (r) => r.cpuMicrosPerEvent)) })),
    format: (v) => v.toFixed(1),
  });
  panel(out, {
    x: 1050, y: 60, w: 170, h: 300,
    title: 'RSS / idle conn (KB)',
    groups: idle.map((sc) => ({ label: short(sc.label), values: subjects.map((su) => cell(sc.key, su.key, (r) => r.rssPerConnection / 1024)) })),
    format: (v) => v.toFixed(1),
  });
  subjects.forEach((subject, s) => {
    const x = 30 + (s % 4) * 300;
    const y = 410 + Math.floor(s / 4) * 18;
    out.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${PALETTE[s % PALETTE.length]}"/>`,
      `<text x="${x + 18}" y="${y}">${escape(subject.label)}</text>`,
    );
  });
  out.push(`<text x="30" y="${height - 8}" font-size="10" fill="#555">${escape(caption)}</text>`, '</svg>', '');
  return out.join('\n');
}
