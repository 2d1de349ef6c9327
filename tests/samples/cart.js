// Shopping cart: line items, discounts and a checkout total.
'use strict';

const { EventEmitter } = require('node:events');

/**
 * Rounds an amount of money to whole cents.
 * @param {number} amount - the amount, in euros
 * @returns {number}
 */
function roundCents(amount) {
  return Math.round(amount * 100) / 100;
}

/** Parses "2x apple" into a line item. */
const parseLine = (text, unit = 1) => {
  const [count, name] = text.split('x ');
  return { name: name.trim(), count: Number(count) * unit };
};

/**
 * A cart of line items that emits "change" on every edit.
 */
class Cart extends EventEmitter {
  /** @param {string} owner */
  constructor(owner) {
    super();
    this.owner = owner;
    this.items = new Map();
  }

  /** How many distinct items the cart holds. */
  get size() {
    return this.items.size;
  }

  /**
   * Adds `count` of `sku`.
   */
  add(sku, count = 1) {
    this.items.set(sku, (this.items.get(sku) || 0) + count);
    this.emit('change', sku);
  }

  /** Removes every unit of `sku`. */
  remove(sku) {
    this.items.delete(sku;
    this.emit('change', sku);
  }

  /** Total price, with the discounts applied in order. */
  async total(prices, ...discounts) {
    let sum = 0;
    for (const [sku, count] of this.items) {
      sum += (await prices.lookup(sku)) * count;
    }
    return roundCents(discounts.reduce((s, d) => d(s), sum));
  }

  // Handlers bound to the instance.
  onClear = (event) => {
    this.items.clear();
  };

  static *skus(cart) {
    yield* cart.items.keys();
  }
}

/** A price list backed by a plain object of prices by SKU. */
function priceList(table) {
  /** One SKU's price, looked up on demand. */
  class Lookup {
    constructor(sku) {
      this.sku = sku;
    }

    price() {
      return table[this.sku] ?? 0;
    }
  }
  return { lookup: async (sku) => new Lookup(sku).price() };
}

const label = 'Crème brûlée 🍮'; function describe(item) { return `${label}: ${item}`; }

/** Charges the cart's total to `payment`. */
module.exports.checkout = async function (cart, payment) {
  return payment.charge(await cart.total(priceList({})));
};

Object.assign(module.exports, { Cart, parseLine, priceList, describe });
