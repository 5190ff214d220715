"""Stripe Checkout behind the PaymentProvider interface (written by the payments work)."""
