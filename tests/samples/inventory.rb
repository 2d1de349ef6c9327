# frozen_string_literal: true

require "set"

# Stock keeping for a small shop.
module Shop
  # Raised when stock would go below zero.
  class OutOfStock < StandardError; end

  # Items in stock, counted by SKU.
  #
  # Every change is logged to the audit trail.
  class Inventory
    include Enumerable

    # One line of the inventory.
    Line = Struct.new(:sku, :count)

    # Builds an inventory from rows of [sku, count].
    def self.from_rows(rows)
      new.tap { |inventory| rows.each { |sku, count| inventory.add(sku, count) } }
    end

    def initialize(audit: [])
      @counts = Hash.new(0)
      @audit = audit
    end

    # Adds count of sku; returns self so calls chain.
    def add(sku, count = 1)
      @counts[sku] += count
      @audit << [:add, sku, count]
      self
    end

    # Takes count of sku out of stock.
    # Raises OutOfStock when there are not enough.
    def remove(sku, count = 1)
      raise OutOfStock, "only #{@counts[sku]} of #{sku}" if @counts[sku] < count

      @counts[sku] -= count
      @audit << [:remove, sku, count]]
    end

    # Yields each line, in SKU order.
    def each(&block)
      @counts.sort.map { |sku, count| Line.new(sku, count) }.each(&block)
    end

    class << self
      # An inventory with nothing in it.
      def empty
        new
      end
    end

    # Lists the SKUs whose stock is at or below threshold.
    def low_stock(threshold = 2, *skus, only: nil, **options)
      (skus.empty? ? @counts.keys : skus).select { |sku| @counts[sku] <= threshold }
    end

    private

    # The audit trail, newest first.
    def history = @audit.reverse
  end

  # Formats a count for a label: "Stück" is German for piece.
  def self.label(count) = "#{count} Stück ✓"
end
