"""Domain errors of the supply chain (shipments, packing, inspection, holds).

Each carries a message a person can act on, in their language; several shortfalls found in one
request are listed together in ``problems`` (one error, every line that failed).
"""

from __future__ import annotations

from core.errors import ConflictError, DomainError, NotAllowed


class NotAtYourFacility(NotAllowed):
    code = "not_your_facility"


class WrongRoute(DomainError):
    code = "wrong_route"


class InvalidQuantity(DomainError):
    code = "invalid_quantity"


class InsufficientLotStock(ConflictError):
    code = "insufficient_lot_stock"


class ShipmentAlreadyReceived(ConflictError):
    code = "shipment_already_received"


class ReceiptRefused(DomainError):
    code = "receipt_refused"


class PackingRefused(DomainError):
    code = "packing_refused"


class BatchStateConflict(ConflictError):
    code = "batch_state"


class NoSupermarket(DomainError):
    code = "no_supermarket"
