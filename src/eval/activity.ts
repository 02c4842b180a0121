// Counts active (user, UTC day) pairs from the normalized events: the denominator of
// "alerts per 1,000 benign entity-days". Fed by analyze's onEvent, so it sees exactly the events
// detection saw.

const DAY_MS = 86_400_000;

/** Distinct UTC days each user name had at least one event (any outcome). */
export class UserDays {
  private readonly days = new Map<string, Set<number>>();
  // Telemetry comes in runs of the same user; remembering the last one skips most Map lookups.
  private lastUser: string | null = null;
  private lastSet: Set<number> | null = null;

  /** Records one event of `user` at epoch ms `ts`; events without a user are not counted. */
  observe(user: string | null, ts: number): void {
    if (user === null || user === '' || !Number.isFinite(ts)) return;
    let set: Set<number> | null | undefined = user === this.lastUser ? this.lastSet : this.days.get(user);
    if (!set) {
      set = new Set();
      this.days.set(user, set);
    }
    this.lastUser = user;
    this.lastSet = set;
    set.add(Math.floor(ts / DAY_MS));
  }

  /** user name (as seen in events) → set of UTC day numbers (days since 1970-01-01). */
  get byUser(): ReadonlyMap<string, ReadonlySet<number>> {
    return this.days;
  }
}
