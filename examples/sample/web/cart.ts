/** A shopping cart: item names and how many of each. */
export class Cart {
  private readonly lines = new Map<string, number>();

  /** Adds qty of item to the cart and returns the item's new count. */
  addItem(item: string, qty: number): number {
    const count = (this.lines.get(item) ?? 0) + qty;
    this.lines.set(item, count);
    return count;
  }

  /** How many items the cart holds in all. */
  total(): number {
    let sum = 0;
    for (const qty of this.lines.values()) {
      sum += qty;
    }
    return sum;
  }
}
