/** Messages for people: what went wrong (or right), shown as dismissible notices. */
export interface Notice {
  id: number;
  kind: 'info' | 'success' | 'error';
  message: string;
}

class Notices {
  #items = $state<Notice[]>([]);
  #next = 1;

  get items(): readonly Notice[] {
    return this.#items;
  }

  push(kind: Notice['kind'], message: string, timeoutMs = kind === 'error' ? 0 : 5000): void {
    const id = this.#next++;
    this.#items.push({ id, kind, message });
    if (timeoutMs > 0) setTimeout(() => this.dismiss(id), timeoutMs);
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((n) => n.id !== id);
  }
}

export const notices = new Notices();
