/**
 * Hybrid logical clock stamps as fixed-width strings: `<wall ms, 13 digits>-<counter, 5 digits>-<node>`.
 * Fixed widths make string order equal clock order, with the node id (client id) breaking ties.
 */
export interface HlcState {
  wall: number;
  counter: number;
  node: string;
}

const WALL_DIGITS = 13;
const COUNTER_DIGITS = 5;
const MAX_COUNTER = 10 ** COUNTER_DIGITS - 1;

export function formatHlc(s: HlcState): string {
  return `${String(s.wall).padStart(WALL_DIGITS, '0')}-${String(s.counter).padStart(COUNTER_DIGITS, '0')}-${s.node}`;
}

export function parseHlc(stamp: string): HlcState {
  const match = /^(\d{13})-(\d{5})-(.+)$/.exec(stamp);
  if (!match) throw new Error(`Not a clock stamp: ${stamp}`);
  return { wall: Number(match[1]), counter: Number(match[2]), node: match[3] ?? '' };
}

export class HybridLogicalClock {
  #wall = 0;
  #counter = 0;
  readonly node: string;
  readonly #now: () => number;

  constructor(node: string, now: () => number = Date.now) {
    this.node = node;
    this.#now = now;
  }

  /** A stamp for a local event, greater than every stamp this clock has made or seen. */
  tick(): string {
    const now = this.#now();
    if (now > this.#wall) {
      this.#wall = now;
      this.#counter = 0;
    } else {
      this.#bump();
    }
    return formatHlc({ wall: this.#wall, counter: this.#counter, node: this.node });
  }

  /** Move past a stamp received from elsewhere so later local stamps order after it. */
  observe(stamp: string): void {
    const remote = parseHlc(stamp);
    const now = this.#now();
    if (now > this.#wall && now > remote.wall) {
      this.#wall = now;
      this.#counter = 0;
    } else if (remote.wall > this.#wall) {
      this.#wall = remote.wall;
      this.#counter = remote.counter;
      this.#bump();
    } else if (remote.wall === this.#wall) {
      this.#counter = Math.max(this.#counter, remote.counter);
      this.#bump();
    } else {
      this.#bump();
    }
  }

  #bump(): void {
    if (this.#counter >= MAX_COUNTER) {
      this.#wall += 1;
      this.#counter = 0;
    } else {
      this.#counter += 1;
    }
  }
}
