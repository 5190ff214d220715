"""``core.api.validated_input`` answers a flat input serializer's accepted JSON from its declared
fields; it must give what ``serializer.is_valid()`` / ``validated_data`` gives for every input, and
DRF's own 400 (the same errors) for every input the serializer refuses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core import api as core_api
from core.api import validated_input
from lovepoints.api import AwardRequestSerializer, RedemptionRequestSerializer
from marketplace.api import CartItemInputSerializer, CheckoutInputSerializer

INPUTS = (CheckoutInputSerializer, CartItemInputSerializer, AwardRequestSerializer, RedemptionRequestSerializer)

_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
    st.text(max_size=140), st.sampled_from(["pickup", "office", "stripe", "wechat", "alipay", " pickup ", "", "0", "12", "1.5", "1e3"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
    st.sampled_from(["2026-07", "2026-13", "202607", "9f6c1f3e-2b1a-4c55-9d1e-0c1b2a3d4e5f", "F-1", "x" * 21]),
    st.uuids(), st.lists(st.fixed_dictionaries({"item": st.integers(0, 5), "quantity": st.integers(0, 3)}), max_size=2),
)


def _data(serializer_class):
    names = [*serializer_class._declared_fields, "extra", "price"]
    return st.dictionaries(st.sampled_from(names), _values, max_size=len(names))


def _drf(serializer_class, data):
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return "ok", dict(serializer.validated_data)
    return "refused", serializer.errors


def _ours(serializer_class, data):
    try:
        return "ok", dict(validated_input(serializer_class, data))
    except ValidationError as exc:
        return "refused", exc.detail


@pytest.mark.parametrize("serializer_class", INPUTS, ids=lambda c: c.__name__)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_same_answer_as_the_serializer(serializer_class, data) -> None:
    given_data = data.draw(_data(serializer_class))
    ours, drf = _ours(serializer_class, given_data), _drf(serializer_class, given_data)
    assert ours == drf
    if ours[0] == "ok":  # the same types too (an enum member stays one, a number is not a string)
        assert [type(v) for v in ours[1].values()] == [type(v) for v in drf[1].values()]


@pytest.mark.parametrize(
    ("serializer_class", "data"),
    [
        (CheckoutInputSerializer, {}),
        (CheckoutInputSerializer, {"fulfilment": "office"}),
        (CheckoutInputSerializer, {"fulfilment": "pickup", "payment_method": None, "wechat_openid": " o-1 "}),
        (CartItemInputSerializer, {"product": "12", "quantity": 3, "price": "0.01"}),
    ],
)
def test_accepted_json_is_answered_by_the_declared_fields(serializer_class, data, monkeypatch) -> None:
    """The short way is taken for what phones send (else it saves nothing), with DRF's values."""
    expected = _drf(serializer_class, data)
    assert expected[0] == "ok"

    def no_serializer(*_args, **_kwargs):
        raise AssertionError("the serializer was built")

    monkeypatch.setattr(serializer_class, "__new__", no_serializer)
    assert dict(validated_input(serializer_class, data)) == expected[1]


def test_refused_input_gets_drfs_own_errors() -> None:
    with pytest.raises(ValidationError) as refused:
        validated_input(CartItemInputSerializer, {"product": "x", "quantity": 1001})
    assert set(refused.value.detail) == {"product", "quantity"}
    with pytest.raises(ValidationError) as refused:
        validated_input(CheckoutInputSerializer, {"fulfilment": "moon"})
    assert list(refused.value.detail) == ["fulfilment"]


def test_form_data_and_serializers_with_their_own_checks_take_the_serializers_way() -> None:
    from django.http import QueryDict

    class Checked(serializers.Serializer):
        n = serializers.IntegerField()

        def validate_n(self, value):
            if value == 13:
                raise serializers.ValidationError("unlucky")
            return value

    class Renamed(serializers.Serializer):
        n = serializers.IntegerField(source="number")

    assert not core_api._flat(Checked)
    assert not core_api._flat(Renamed)
    assert not core_api._flat(RedemptionRequestSerializer)  # nested lines
    assert core_api._flat(AwardRequestSerializer)
    assert core_api._flat(CheckoutInputSerializer)
    with pytest.raises(ValidationError):
        validated_input(Checked, {"n": 13})
    assert dict(validated_input(Renamed, {"n": "4"})) == {"number": 4}
    form = QueryDict("product=3&quantity=2")
    assert dict(validated_input(CartItemInputSerializer, form)) == {"product": 3, "quantity": 2}
