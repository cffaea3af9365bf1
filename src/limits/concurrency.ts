/**
 * Operations running at once per key (a viewer, or a guest's address), in
 * this process: the budget prices what an operation asks for, this bounds
 * how many one viewer can have in memory together. Entering takes a slot or
 * fails at once, nothing waits in a queue; `exit` gives the slot back (once,
 * however often it is called).
 */
export type ConcurrencyGate = Readonly<{
  limit: number;
  enter(key: string): (() => void) | null;
}>;

export function createConcurrencyGate(limit: number): ConcurrencyGate {
  const running = new Map<string, number>();
  return {
    limit,
    enter(key) {
      const now = running.get(key) ?? 0;
      if (now >= limit) return null;
      running.set(key, now + 1);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const after = (running.get(key) ?? 1) - 1;
        if (after === 0) running.delete(key);
        else running.set(key, after);
      };
    },
  };
}
