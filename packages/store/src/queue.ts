/** A FIFO with O(1) push/shift (an array plus a head index, compacted as it drains). */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Remove and return up to `n` items from the front. */
  take(n: number): T[] {
    const end = Math.min(this.head + n, this.items.length);
    const out = this.items.slice(this.head, end);
    this.head = end;
    this.compact();
    return out;
  }

  /** Put items back at the front, in order (a batch that could not be written). */
  unshiftAll(items: T[]): void {
    if (items.length === 0) return;
    this.items = items.concat(this.items.slice(this.head));
    this.head = 0;
  }

  /** Drop up to `n` items from the front; returns how many were dropped. */
  dropFront(n: number): number {
    const dropped = Math.min(n, this.length);
    this.head += dropped;
    this.compact();
    return dropped;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
