/**
 * The scale-out figures as Markdown: one table per scenario and one against
 * the targets of issue 16, with where a 2-core machine binds first. Every
 * number comes from the run it reports.
 */
import type { ScaleOutResults } from './run-scale-out.js';

const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const met = (ok: boolean | undefined) => (ok === undefined ? '–' : ok ? 'met' : '**not met**');

function throughputTable(results: ScaleOutResults): string[] {
  const rows = results.throughput.map((r) => {
    const total = r.redisMicrosPerSend + r.publisherMicrosPerSend + r.instancesMicrosPerSend + r.clientsMicrosPerSend;
    return (
      `| ${r.redis} | ${int(r.burst.sendsPerSecond)} | ${int(r.burst.sendsPerSecond * r.fanOut)} | ${fixed(r.burstClients.p50Ms)} / ${fixed(r.burstClients.p99Ms)} | ` +
      `${fixed(r.pacedClients.p50Ms, 2)} / ${fixed(r.pacedClients.p99Ms, 2)} | ${fixed(r.redisMicrosPerSend)} | ${fixed(r.publisherMicrosPerSend)} | ` +
      `${fixed(r.instancesMicrosPerSend)} | ${fixed(r.instancesMicrosPerSend / r.fanOut, 2)} | ${fixed(r.clientsMicrosPerSend)} | ${fixed(total)} | ` +
      `${fixed(r.rssPerConnection / 1024)} / ${fixed(r.heapPerConnection / 1024)} | ${r.burstClients.lost + r.pacedClients.lost} / ${r.burstClients.duplicates + r.pacedClients.duplicates} |${r.note ? ` ${r.note}` : ''}`
    );
  });
  const s = results.throughput[0]?.sizes;
  return [
    '### Publisher-only worker against two instances',
    '',
    s
      ? `${s.clients.toLocaleString('en-US')} clients over ${s.names} names (${Math.round(s.clients / s.names)} clients a name, spread over ${s.instances} instances); ` +
        `a burst of ${s.burst.toLocaleString('en-US')} sends of 100-byte frames, each to one name, at most ${s.window.toLocaleString('en-US')} in flight (after an equal unmeasured warm-up); ` +
        `then ${s.pacedRate.toLocaleString('en-US')} sends/s for ${s.pacedSeconds} s (paced). CPU per send: each process's CPU time during the burst ÷ sends; Redis from \`INFO cpu\` (used_cpu_sys + used_cpu_user) of every master, before and after.`
      : 'not run',
    '',
    '| Redis | sends/s | deliveries/s | burst p50 / p99 ms | paced p50 / p99 ms | Redis µs/send | publisher µs/send | instances µs/send | instances µs/delivery | clients µs/send | all µs/send | RSS / heap KB per connection | lost / dup | |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ];
}

function stormTable(results: ScaleOutResults): string[] {
  const r = results.storm;
  if (!r) return ['### Reconnect storm', '', 'not run'];
  return [
    '### Reconnect storm',
    '',
    `${r.sizes.clients.toLocaleString('en-US')} clients over ${r.sizes.names} names on ${r.sizes.instances} instances (${r.redis}); the publisher sends ${r.sizes.rate.toLocaleString('en-US')} sends/s for ${r.sizes.seconds} s; ` +
      `${r.sizes.killAfterMs / 1000} s in, one instance is killed (SIGKILL). Its clients reconnect at once to the other two with \`Last-Event-ID\`. ` +
      'Caught up: the first live event (emitted after the reconnect) arrived with every earlier one in place.',
    '',
    '| clients of the killed instance | reconnects | caught up | time from kill to the last caught up | events lost | events duplicated | `sse.gap` | sends/s held | |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    `| ${r.affected} | ${r.clients.reconnects} | ${r.clients.recovered} | ${int(r.clients.recoveryMs)} ms | ${r.clients.lost} | ${r.clients.duplicates} | ${r.clients.gaps} | ${int(r.publisher.sendsPerSecond)} |${r.note ? ` ${r.note}` : ''}`,
  ];
}

function privateTable(results: ScaleOutResults): string[] {
  const r = results.privateSends;
  if (!r) return ['### Private sends', '', 'not run'];
  const total = r.instances.reduce((sum, i) => ({ messages: sum.messages + i.messages, bytes: sum.bytes + i.bytes }), { messages: 0, bytes: 0 });
  return [
    '### Private sends: what each instance reads from Redis',
    '',
    `${r.sizes.users.toLocaleString('en-US')} users, one connection each, spread evenly over ${r.sizes.instances} instances (${r.redis}); ${r.sizes.sends.toLocaleString('en-US')} sends, each to one user ` +
      `(${int(r.publisher.sendsPerSecond)} sends/s). Reads: \`RedisTransport.reads()\` of each instance during the sends.`,
    '',
    '| instance | messages read | share of all sends | bytes read | CPU µs per send it read |',
    '|---|---:|---:|---:|---:|',
    ...r.instances.map((i, n) => `| ${n + 1} | ${int(i.messages)} | ${fixed((i.messages / r.sizes.sends) * 100)} % | ${int(i.bytes)} | ${fixed(i.cpuMicros / Math.max(1, i.messages))} |`),
    `| all | ${int(total.messages)} | ${fixed((total.messages / r.sizes.sends) * 100)} % | ${int(total.bytes)} | |`,
    '',
    `Lost ${r.clients.lost}, duplicated ${r.clients.duplicates}; clients closed with reason \`replaced\`: ${r.clients.replaced}.${r.note ? ` ${r.note}.` : ''}`,
  ];
}

function targetsTable(results: ScaleOutResults): string[] {
  const single = results.throughput.find((r) => r.masters === 1);
  const cluster = results.throughput.find((r) => r.masters > 1);
  const storm = results.storm;
  const priv = results.privateSends;
  const shares = priv ? priv.instances.map((i) => i.messages / priv.sizes.sends) : [];
  const third = priv ? 1 / priv.sizes.instances : NaN;
  const rows: string[] = [];
  if (single) {
    rows.push(`| publisher-only worker ≥ 50,000 sends/s | single Redis ${int(single.burst.sendsPerSecond)}${cluster ? `; cluster ${int(cluster.burst.sendsPerSecond)}` : ''} sends/s (all processes on 2 cores); publisher alone ${fixed(single.publisherMicrosPerSend)} µs/send = ${int(1e6 / single.publisherMicrosPerSend)} sends/s per core | ${met(single.burst.sendsPerSecond >= 50_000)} |`);
    rows.push(`| Redis CPU ≤ 10 µs per send | single ${fixed(single.redisMicrosPerSend)}${cluster ? `; cluster ${fixed(cluster.redisMicrosPerSend)} (all masters)` : ''} | ${met(single.redisMicrosPerSend <= 10 && (!cluster || cluster.redisMicrosPerSend <= 10))} |`);
  }
  if (single && cluster) {
    const wall = cluster.burst.sendsPerSecond / single.burst.sendsPerSecond;
    // With a core per master, Redis's ceiling is masters × (1 s ÷ its CPU per send on one master).
    const capacity = (cluster.masters * (1e6 / cluster.redisMicrosPerSend)) / (1e6 / single.redisMicrosPerSend);
    rows.push(`| 3 Cluster masters ≥ 2.5× one | measured here ${fixed(wall, 2)}× (2 cores shared by every process); Redis ceiling with a core per master ${fixed(capacity, 2)}× | ${met(wall >= 2.5)} (here); ${met(capacity >= 2.5)} (Redis ceiling) |`);
  }
  if (storm) rows.push(`| reconnect storm: 0 lost, 0 duplicated | ${storm.clients.lost} lost, ${storm.clients.duplicates} duplicated; ${storm.clients.recovered}/${storm.affected} caught up in ${int(storm.clients.recoveryMs)} ms | ${met(storm.clients.lost === 0 && storm.clients.duplicates === 0 && storm.clients.recovered === storm.affected)} |`);
  if (priv) rows.push(`| private sends: each instance reads ≈ a third | ${shares.map((s) => `${fixed(s * 100)} %`).join(' / ')} of the sends | ${met(shares.every((s) => Math.abs(s - third) < 0.05))} |`);
  return ['### Against the targets of issue 16', '', '| target | measured | |', '|---|---|---|', ...rows];
}

/** Where the CPU of a send goes, and so what binds first on this machine. */
function bindingNote(results: ScaleOutResults): string[] {
  const lines: string[] = [];
  for (const r of results.throughput) {
    const parts = [
      ['instances', r.instancesMicrosPerSend],
      ['clients (load generator)', r.clientsMicrosPerSend],
      ['publisher', r.publisherMicrosPerSend],
      ['Redis', r.redisMicrosPerSend],
    ] as Array<[string, number]>;
    const total = parts.reduce((sum, [, v]) => sum + v, 0);
    const sorted = [...parts].sort((a, b) => b[1] - a[1]);
    lines.push(
      `- ${r.redis}: ${fixed(total)} µs of CPU per send in all, ${sorted.map(([k, v]) => `${k} ${fixed((v / total) * 100, 0)} %`).join(', ')}; ` +
        `2 cores ÷ ${fixed(total)} µs = ${int(2e6 / total)} sends/s at most, measured ${int(r.burst.sendsPerSecond)}.`,
    );
  }
  return ['### Where this 2-core machine binds', '', ...lines];
}

/** The whole report: machine facts and load, targets, where the CPU went, one table per scenario, failures. */
export function scaleOutReport(results: ScaleOutResults, failures: string[], command: string): string {
  return [
    `Produced by \`${command}\` in ${fixed(results.minutes)} min; every process (Redis servers, instances, publisher, clients) on this one machine, over loopback.`,
    '',
    results.facts,
    `- Load average before / after the scale-out part (1/5/15 min): ${results.load.before.map((l) => l.toFixed(2)).join(' / ')} → ${results.load.after.map((l) => l.toFixed(2)).join(' / ')}`,
    '',
    ...targetsTable(results),
    '',
    ...bindingNote(results),
    '',
    ...throughputTable(results),
    '',
    ...stormTable(results),
    '',
    ...privateTable(results),
    ...(failures.length ? ['', '**Failed:**', ...failures.map((f) => `- ${f}`)] : []),
  ].join('\n');
}
