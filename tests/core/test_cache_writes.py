"""core.cache_writes: cache writes of one unit of work go together, when the block ends, the last
value of each key only; and a checkout's or a cart write's invalidations (the shopper's card, the
stock clock: each now and at commit) are one round trip, after commit, before the answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from core import cache_writes
from core.cache_writes import cache_set, cache_writes_together


@pytest.fixture(autouse=True)
def _clean():
    cache.delete_many(["cw:a", "cw:b", "cw:c"])
    yield
    cache.delete_many(["cw:a", "cw:b", "cw:c"])


def test_outside_a_block_a_write_is_made_at_once():
    cache_set("cw:a", 1, 60)
    assert cache.get("cw:a") == 1


def test_inside_a_block_writes_wait_for_its_end_and_the_last_value_of_each_key_is_kept():
    cache.set("cw:a", "old", 60)
    with cache_writes_together():
        cache_set("cw:a", "first", 60)
        cache_set("cw:b", "b", None)
        cache_set("cw:a", "last", 60)
        assert cache.get("cw:a") == "old" and cache.get("cw:b") is None
        with cache_writes_together():  # nested: sent with the outer block
            cache_set("cw:c", "c", 60)
        assert cache.get("cw:c") is None
    assert cache.get_many(["cw:a", "cw:b", "cw:c"]) == {"cw:a": "last", "cw:b": "b", "cw:c": "c"}


def test_a_timeout_of_zero_deletes_as_set_would_and_a_raising_block_still_writes():
    cache.set("cw:a", "there", 60)
    with pytest.raises(RuntimeError), cache_writes_together():
        cache_set("cw:a", "gone", 0)
        cache_set("cw:b", "written", 60)
        raise RuntimeError("the writer failed")
    assert cache.get("cw:a") is None and cache.get("cw:b") == "written"


@pytest.mark.skipif(not hasattr(cache, "set_each"), reason="the Redis cache's pipeline (CI's PostgreSQL leg runs with Redis)")
def test_with_redis_the_writes_are_one_pipeline_with_each_keys_own_expiry(monkeypatch):
    import redis.client

    sent, single = [], []
    execute, command = redis.client.Pipeline.execute, redis.client.Redis.execute_command
    monkeypatch.setattr(redis.client.Pipeline, "execute", lambda self, *a, **k: sent.append(len(self.command_stack)) or execute(self, *a, **k))
    monkeypatch.setattr(redis.client.Redis, "execute_command", lambda self, *a, **k: single.append(a[0]) or command(self, *a, **k))
    with cache_writes_together():
        cache_set("cw:a", {"x": Decimal("1.10")}, 60)
        cache_set("cw:b", "forever", None)
    assert sent == [2] and single == []
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_key("cw:a")) <= 60 and client.ttl(cache.make_key("cw:b")) == -1
    assert cache.get("cw:a") == {"x": Decimal("1.10")}


@pytest.mark.django_db(transaction=True)
def test_a_checkout_and_a_cart_write_send_their_invalidations_once_after_commit(monkeypatch):
    from cms import cache as page_cache
    from marketplace import shopper_card
    from marketplace.services.allocation import allocation_grant
    from marketplace.services.cart import cart_item_add
    from marketplace.services.checkout import checkout_submit
    from tests.marketplace.factories import EmployeeFactory, ProductFactory, allocation_year, stock_batch

    monkeypatch.setattr(page_cache, "stock_badge_seconds", lambda: 60)  # the stock clock, not a catalogue bump
    employee = EmployeeFactory()
    allocation_grant(employee=employee, year=allocation_year().year)
    product = ProductFactory(price=Decimal("9.90"))
    stock_batch(product, 5)
    shopper_card.shopper_card(employee)
    assert shopper_card.shopper_card_cached(employee.pk) is not None

    batches, plain, sending = [], [], []
    send, set_ = cache_writes._send, cache.set

    def batch(pending):
        batches.append(sorted(k for _a, k in pending))
        sending.append(True)
        try:
            send(pending)
        finally:
            sending.pop()

    monkeypatch.setattr(cache_writes, "_send", batch)
    # a write not sent with the block's (a local cache's are sent one by one: one process, no trip)
    def one(key, *args, **kwargs):
        if not sending:
            plain.append(key)
        return set_(key, *args, **kwargs)

    monkeypatch.setattr(cache, "set", one)

    cart_item_add(employee=employee, product=product, quantity=2)
    generation = shopper_card._generation_key(employee.pk)
    assert batches == [[generation]] and plain == []
    assert shopper_card.shopper_card_cached(employee.pk) is None
    shopper_card.shopper_card(employee)

    batches.clear()
    moved_before = page_cache._stock_moved_at()
    order = checkout_submit(employee=employee).order
    assert order.total == Decimal("19.80")
    assert batches == [sorted([generation, page_cache.STOCK_MOVED_KEY])]
    assert not [key for key in plain if key in (generation, page_cache.STOCK_MOVED_KEY)]
    assert shopper_card.shopper_card_cached(employee.pk) is None  # the balance and the cart changed
    assert page_cache._stock_moved_at() > moved_before
