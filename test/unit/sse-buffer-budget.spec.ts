import { SseBufferBudget, type SseBacklogHolder } from '../../lib/connection/sse-buffer-budget.js';
import { SseSettings } from '../../lib/config/sse-settings.js';
import { SseCounters } from '../../lib/delivery/sse-counters.js';

/** A connection as the budget sees it: its unsent bytes can change behind the budget's back, as a socket drains. */
class Backlog implements SseBacklogHolder {
  dropped = false;
  constructor(
    readonly name: string,
    public unsentBytes: number,
    private readonly budget: () => SseBufferBudget,
  ) {}
  dropOverBudget(): void {
    this.dropped = true;
    this.unsentBytes = 0;
    // As SseClientConnection does: closing reports back.
    this.budget().caughtUp(this);
  }
}

function setup(limit: number) {
  const settings = new SseSettings({ maxTotalBufferedBytes: limit });
  const counters = new SseCounters(settings);
  const budget = new SseBufferBudget(settings, counters);
  const holder = (name: string, unsent: number) => new Backlog(name, unsent, () => budget);
  return { budget, counters, holder };
}

describe('SseBufferBudget (maxTotalBufferedBytes)', () => {
  it('tracks what connections that are behind report, and forgets them once they catch up', () => {
    const { budget, holder } = setup(1000);
    const a = holder('a', 300);
    const b = holder('b', 200);
    budget.behind(a, 300);
    budget.behind(b, 200);
    expect(budget.backlogBytes).toBe(500);
    a.unsentBytes = 450;
    budget.behind(a, 450);
    expect(budget.backlogBytes).toBe(650);
    budget.caughtUp(a);
    budget.caughtUp(a);
    expect(budget.backlogBytes).toBe(200);
  });

  it('over the limit, drops the largest backlog first, only until the total is under it again', () => {
    const { budget, counters, holder } = setup(1000);
    const small = holder('small', 100);
    const large = holder('large', 500);
    const medium = holder('medium', 300);
    for (const h of [small, large, medium]) budget.behind(h, h.unsentBytes);
    expect(counters.snapshot().budgetDisconnects).toBe(0);
    // 1,150 > 1,000: dropping the largest (500) is enough.
    const newcomer = holder('newcomer', 250);
    budget.behind(newcomer, 250);
    expect([small, large, medium, newcomer].filter((h) => h.dropped).map((h) => h.name)).toEqual(['large']);
    expect(budget.backlogBytes).toBe(650);
    expect(counters.snapshot().budgetDisconnects).toBe(1);
  });

  it('drops the largest as it stands each time the limit is passed', () => {
    const { budget, counters, holder } = setup(1000);
    const holders = [holder('a', 400), holder('b', 390), holder('c', 380)];
    for (const h of holders) budget.behind(h, h.unsentBytes);
    // 1,170: the largest, 'a' (400), goes; 770 is under.
    expect(holders.filter((h) => h.dropped).map((h) => h.name)).toEqual(['a']);
    // 770 + 600 = 1,370: the largest now is the newcomer.
    const d = holder('d', 600);
    budget.behind(d, 600);
    expect([...holders, d].filter((h) => h.dropped).map((h) => h.name)).toEqual(['a', 'd']);
    expect(budget.backlogBytes).toBe(770);
    expect(counters.snapshot().budgetDisconnects).toBe(2);
  });

  it('re-reads every backlog before dropping anyone: what drained since it was reported is not counted', () => {
    const { budget, counters, holder } = setup(1000);
    const a = holder('a', 600);
    const b = holder('b', 300);
    budget.behind(a, 600);
    budget.behind(b, 300);
    // 'a' drained to 50 without reporting yet (its drain event has not run).
    a.unsentBytes = 50;
    const c = holder('c', 400);
    budget.behind(c, 400);
    // Reported: 1,300; real: 750. Nobody is dropped, and the total is the real one.
    expect([a, b, c].some((h) => h.dropped)).toBe(false);
    expect(budget.backlogBytes).toBe(750);
    expect(counters.snapshot().budgetDisconnects).toBe(0);
  });

  it('drops several when one is not enough, chosen by their real sizes, not the reported ones', () => {
    const { budget, holder } = setup(1000);
    const a = holder('a', 700);
    const b = holder('b', 200);
    budget.behind(a, 700);
    budget.behind(b, 200);
    // Since reported: 'a' drained to 100, 'b' grew to 800.
    a.unsentBytes = 100;
    b.unsentBytes = 800;
    const c = holder('c', 300);
    budget.behind(c, 300);
    expect([a, b, c].filter((h) => h.dropped).map((h) => h.name)).toEqual(['b']);
    expect(budget.backlogBytes).toBe(400);
    // Both grow unreported, to 600 and 550; a newcomer's 700 passes the limit as reported (1,100), and
    // re-read it is 1,850: the newcomer goes (1,150 left), then 'a' (550 left).
    a.unsentBytes = 600;
    c.unsentBytes = 550;
    const d = holder('d', 700);
    budget.behind(d, 700);
    expect([a, c, d].filter((h) => h.dropped).map((h) => h.name)).toEqual(['a', 'd']);
    expect(budget.backlogBytes).toBe(550);
  });
});
