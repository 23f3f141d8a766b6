import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/system-clock.js';
import { StraggleLimit } from '../../src/core/straggle-limit.js';

/** Tasks that end when the test says so; records the order they started in. */
function tasks() {
  const started: string[] = [];
  const enders = new Map<string, () => void>();
  const task = (name: string) => () => {
    started.push(name);
    return new Promise<string>((resolve) =>
      enders.set(name, () => resolve(name)),
    );
  };
  const end = (name: string) => enders.get(name)?.();
  return { started, task, end };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
/** Lets promise callbacks run, and no timer. */
async function microtasks() {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
const sweep = () => new Promise((resolve) => setTimeout(resolve, 150));

let limits: StraggleLimit[] = [];
function limit(concurrency: number, now: () => number, straggleMs = 50) {
  const l = new StraggleLimit(concurrency, {
    straggleMs,
    clock: { now },
    scheduler: systemClock,
  });
  limits.push(l);
  return l;
}
afterEach(() => {
  for (const l of limits) l.close();
  limits = [];
});

describe('StraggleLimit', () => {
  it('runs at most `concurrency` tasks, the next in order of arrival when one ends', async () => {
    const t = tasks();
    const l = limit(2, () => 0);
    const results = ['a', 'b', 'c', 'd'].map((n) => l.run(t.task(n)));
    await settle();
    expect(t.started).toEqual(['a', 'b']);
    expect(l.full).toBe(true);
    t.end('b');
    await settle();
    expect(t.started).toEqual(['a', 'b', 'c']);
    t.end('a');
    t.end('c');
    await settle();
    t.end('d');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(l.full).toBe(false);
  });

  it('gives a straggler’s slot away only while every slot is taken', async () => {
    const t = tasks();
    let clock = 0;
    const l = limit(3, () => clock);
    void l.run(t.task('slow'));
    clock = 100;
    void l.run(t.task('b'));
    await sweep();
    // Not full: 'slow' is past 50 ms but keeps its slot; one more starts.
    void l.run(t.task('c'));
    void l.run(t.task('d'));
    await microtasks();
    expect(t.started).toEqual(['slow', 'b', 'c']);
    // Full: the sweep gives the straggler's slot to 'd'.
    await sweep();
    expect(t.started).toEqual(['slow', 'b', 'c', 'd']);
    // The straggler's end frees nothing: its slot was given already.
    void l.run(t.task('e'));
    t.end('slow');
    await microtasks();
    expect(t.started).toEqual(['slow', 'b', 'c', 'd']);
    t.end('b');
    await microtasks();
    expect(t.started).toEqual(['slow', 'b', 'c', 'd', 'e']);
  });

  it('whenFree waits for a slot without taking it', async () => {
    const t = tasks();
    const l = limit(1, () => 0);
    void l.run(t.task('a'));
    let free = false;
    void l.whenFree().then(() => (free = true));
    await settle();
    expect(free).toBe(false);
    t.end('a');
    await settle();
    expect(free).toBe(true);
    expect(l.full).toBe(false);
  });
});
