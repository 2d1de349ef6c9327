"""Stock levels and reservations."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

log = logging.getLogger(__name__)


class OutOfStock(Exception):
    pass


class StockLedger:
    def __init__(self) -> None:
        self._levels: dict[str, int] = defaultdict(int)
        self._lock = asyncio.Lock()

    def receive(self, sku: str, quantity: int) -> int:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self._levels[sku] += quantity
        log.info("received %d of %s", quantity, sku)
        return self._levels[sku]

    async def reserve(self, sku: str, quantity: int) -> int:
        async with self._lock:
            level = self._levels[sku]
            if level < quantity:
                raise OutOfStock(f"{sku}: wanted {quantity}, have {level}")
            self._levels[sku] = level - quantity
            return self._levels[sku]

    def low_stock(self, threshold: int = 5) -> list[str]:
        return sorted(sku for sku, level in self._levels.items() if level < threshold)


def parse_order_line(line: str) -> tuple[str, int]:
    sku, _, qty = line.partition(",")
    return sku.strip().upper(), int(qty or 1)
