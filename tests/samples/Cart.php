<?php

declare(strict_types=1);

namespace App\Shop;

use InvalidArgumentException;

/**
 * Something with a price.
 */
interface Priced
{
    /** The price in cents. */
    public function price(): int;
}

/**
 * Gives a percentage off to anything priced.
 */
trait Discountable
{
    private int $percent = 0;

    /**
     * Sets the discount.
     *
     * @param int $percent from 0 to 100
     * @throws InvalidArgumentException outside that range
     */
    public function discount(int $percent): static
    {
        if ($percent < 0 || $percent > 100) {
            throw new InvalidArgumentException("bad discount: $percent");
        }
        $this->percent = $percent;
        return $this;
    }
}

/** The currencies a cart can be priced in. */
enum Currency: string
{
    case Euro = 'EUR';
    case Pound = 'GBP';

    /** The symbol shown before amounts. */
    public function symbol(): string
    {
        return match ($this) {
            Currency::Euro => '€',
            Currency::Pound => '£',
        };
    }
}

/**
 * A shopping cart: SKUs and quantities, priced from a catalogue.
 */
final class Cart implements Priced, \Countable
{
    use Discountable;

    /** @var array<string, int> quantities by SKU */
    private array $lines = [];

    public function __construct(
        private readonly array $catalogue,
        private readonly Currency $currency = Currency::Euro,
    ) {}

    /**
     * Adds a quantity of one SKU.
     *
     * @param string $sku a SKU of the catalogue
     */
    public function add(string $sku, int $quantity = 1): self
    {
        $this->lines[$sku] = ($this->lines[$sku] ?? 0) + $quantity;
        return $this;
    }

    public function count(): int
    {
        return array_sum($this->lines;
    }

    /** The total in cents, with the discount applied. */
    public function price(): int
    {
        $total = 0;
        foreach ($this->lines as $sku => $quantity) {
            $total += $this->catalogue[$sku] * $quantity;
        }
        return intdiv($total * (100 - $this->percent), 100);
    }

    /** A cart filled from rows of [sku, quantity]. */
    public static function fromRows(array $catalogue, array $rows): self
    {
        $cart = new self($catalogue);
        foreach ($rows as [$sku, $quantity]) {
            $cart->add($sku, $quantity);
        }
        return $cart;
    }
}

function format_price(int $cents, Currency $currency): string { return $currency->symbol() . " " . number_format($cents / 100, 2) . " — TTC"; }
