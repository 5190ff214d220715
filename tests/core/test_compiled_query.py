"""core.compiled_query: a model queryset compiled once and run with new parameters gives the ORM's
instances, their select_related records included."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from core.compiled_query import CompiledModelQuery
from logistics.models import PackedBatch
from tests.marketplace.factories import ProductFactory, stock_batch

pytestmark = pytest.mark.django_db

FIELDS = [f.attname for f in PackedBatch._meta.concrete_fields]


def _batches(sku_id):
    return PackedBatch.objects.filter(sku_id=sku_id).select_related("station__township").order_by("-packed_at", "-id")


def _same(got, expected):
    assert [{f: getattr(b, f) for f in FIELDS} for b in got] == [{f: getattr(b, f) for f in FIELDS} for b in expected]
    assert [type(getattr(b, f)) for b in got for f in FIELDS] == [type(getattr(b, f)) for b in expected for f in FIELDS]


def test_the_compiled_query_gives_the_orms_instances_for_each_parameter_with_their_related_records():
    query = CompiledModelQuery(_batches)
    first, second = ProductFactory(), ProductFactory()
    for product, n in ((first, 3), (second, 1)):
        for _ in range(n):
            stock_batch(product, 5)
    station = PackedBatch.objects.get(sku=second.sku).station
    type(station).objects.filter(pk=station.pk).update(township=None)  # a station of no township: a null join
    for product in (first, second, first):
        expected = list(_batches(product.sku_id))
        with CaptureQueriesContext(connection) as ctx:
            got = query(product.sku_id)
            townships = [b.station.township for b in got]  # read with the row, no query more
        assert len(ctx.captured_queries) == 1
        _same(got, expected)
        assert townships == [b.station.township for b in expected]
    assert query(-1) == []


def test_the_statement_is_compiled_once_a_slice_kept():
    query = CompiledModelQuery(lambda sku_id: _batches(sku_id)[:1])
    product = ProductFactory()
    stock_batch(product, 5)
    stock_batch(product, 5)
    _same(query(product.sku_id), list(_batches(product.sku_id)[:1]))
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as as_sql:
        _same(query(product.sku_id), list(_batches(product.sku_id)[:1]))
    assert as_sql.call_count == 1  # the ORM's reference query only


def test_what_one_compiled_statement_cannot_say_is_refused():
    with pytest.raises(ValueError):
        CompiledModelQuery(lambda sku_id: PackedBatch.objects.filter(sku_id=sku_id).prefetch_related("shares"))(1)
    with pytest.raises(ValueError):
        CompiledModelQuery(lambda sku_id: PackedBatch.objects.filter(sku_id=sku_id).values("code"))(1)
    with pytest.raises(ValueError):
        CompiledModelQuery(lambda sku_id: PackedBatch.objects.all())(1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="preparing is PostgreSQL's")
def test_on_postgresql_the_compiled_statement_is_prepared_once_per_connection_and_logged():
    """Django binds on the client and PostgreSQL plans every statement again: for the joins a page
    reads on every request (the cart's lines with their products, an order with its employee)
    planning cost several times running. The compiled text is prepared once and run with each
    call's parameters."""
    query = CompiledModelQuery(_batches)
    products = [ProductFactory() for _ in range(3)]
    for product in products:
        stock_batch(product, 5)
    with CaptureQueriesContext(connection) as ctx:
        for product in products:
            _same(query(product.sku_id), list(_batches(product.sku_id)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%logistics_packedbatch%"])
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 1 and "$1" in prepared[0]
    ours = [q["sql"] for q in ctx.captured_queries if "$1" in q["sql"]]
    assert len(ours) == 3  # each run is in Django's query log, as the statement it ran
