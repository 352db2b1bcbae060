/** Turns summary rows into the Markdown tables of RESULTS.md and the SVG chart (no dependencies). */
import type { SummaryRow } from './summary.js';

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const thousands = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

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

/** Two panels: events/s relative to node:http per scenario, and RSS per idle connection. */
export function svgChart(rows: SummaryRow[], caption: string): string {
  const subjects = [...new Map(rows.map((row) => [row.subject.key, row.subject])).values()];
  const busyScenarios = [...new Map(rows.filter((r) => r.scenario.events > 0).map((r) => [r.scenario.key, r.scenario])).values()];
  const idleRows = rows.filter((row) => row.scenario.events === 0);
  const width = 960;
  const height = 470;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  // Panel 1: throughput ratio.
  const p1 = { x: 60, y: 50, w: 560, h: 330 };
  const maxRatio = Math.max(1.2, ...rows.filter((r) => r.scenario.events > 0).map((r) => r.throughputRatio).filter(Number.isFinite)) * 1.1;
  const y1 = (value: number) => p1.y + p1.h - (value / maxRatio) * p1.h;
  out.push(`<text x="${p1.x}" y="28" font-size="15" font-weight="bold">Delivered events/s, relative to node:http (same run)</text>`);
  for (let tick = 0; tick <= maxRatio; tick += maxRatio > 3 ? 0.5 : 0.25) {
    out.push(
      `<line x1="${p1.x}" x2="${p1.x + p1.w}" y1="${y1(tick)}" y2="${y1(tick)}" stroke="#e5e5e5"/>`,
      `<text x="${p1.x - 6}" y="${y1(tick) + 4}" text-anchor="end">${tick.toFixed(2)}×</text>`,
    );
  }
  out.push(`<line x1="${p1.x}" x2="${p1.x + p1.w}" y1="${y1(1)}" y2="${y1(1)}" stroke="#333" stroke-dasharray="5,3"/>`);
  const groupWidth = p1.w / Math.max(1, busyScenarios.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, subjects.length);
  busyScenarios.forEach((scenario, g) => {
    const gx = p1.x + g * groupWidth + groupWidth * 0.1;
    subjects.forEach((subject, s) => {
      const row = rows.find((r) => r.scenario.key === scenario.key && r.subject.key === subject.key);
      if (!row || !Number.isFinite(row.throughputRatio)) return;
      const x = gx + s * barWidth;
      const top = y1(row.throughputRatio);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(p1.y + p1.h - top).toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"/>`,
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="10">${row.throughputRatio.toFixed(2)}</text>`,
      );
    });
    out.push(`<text x="${(gx + groupWidth * 0.4).toFixed(1)}" y="${p1.y + p1.h + 18}" text-anchor="middle">${escape(scenario.label)}</text>`);
  });
  // Panel 2: RSS per idle connection.
  const p2 = { x: 700, y: 50, w: 230, h: 330 };
  out.push(`<text x="${p2.x - 20}" y="28" font-size="15" font-weight="bold">RSS per idle connection (KB)</text>`);
  const maxKb = Math.max(1, ...idleRows.map((r) => r.rssPerConnection / 1024).filter(Number.isFinite)) * 1.15;
  const y2 = (kb: number) => p2.y + p2.h - (kb / maxKb) * p2.h;
  out.push(`<line x1="${p2.x}" x2="${p2.x + p2.w}" y1="${p2.y + p2.h}" y2="${p2.y + p2.h}" stroke="#333"/>`);
  const bar2 = p2.w / Math.max(1, subjects.length);
  subjects.forEach((subject, s) => {
    const row = idleRows.find((r) => r.subject.key === subject.key);
    if (!row || !Number.isFinite(row.rssPerConnection)) return;
    const kb = row.rssPerConnection / 1024;
    const x = p2.x + s * bar2;
    out.push(
      `<rect x="${x.toFixed(1)}" y="${y2(kb).toFixed(1)}" width="${(bar2 - 6).toFixed(1)}" height="${(p2.y + p2.h - y2(kb)).toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"/>`,
      `<text x="${(x + (bar2 - 6) / 2).toFixed(1)}" y="${(y2(kb) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${kb.toFixed(1)}</text>`,
    );
  });
  if (idleRows[0]) out.push(`<text x="${p2.x + p2.w / 2}" y="${p2.y + p2.h + 18}" text-anchor="middle">${escape(idleRows[0].scenario.label)}</text>`);
  // Legend and caption.
  subjects.forEach((subject, s) => {
    const x = 60 + (s % 4) * 220;
    const y = 420 + Math.floor(s / 4) * 18;
    out.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${PALETTE[s % PALETTE.length]}"/>`,
      `<text x="${x + 18}" y="${y}">${escape(subject.label)}</text>`,
    );
  });
  out.push(`<text x="60" y="${height - 8}" font-size="10" fill="#555">${escape(caption)}</text>`, '</svg>', '');
  return out.join('\n');
}
