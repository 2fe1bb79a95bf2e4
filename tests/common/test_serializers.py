"""The project's serializer base (common.api.Serializer): each instance binds copies of its
declared fields of its own, as DRF's does, made shallowly."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from common.api import Serializer
from common.validators import mobile_validator


class Party(Serializer):
    name = serializers.CharField(max_length=5)
    phone = serializers.CharField(validators=[mobile_validator])
    seats = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=[("class", "班级"), ("team", "团队")], required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


class Outer(Serializer):
    party = Party()
    parties = Party(many=True, required=False)


def test_each_instance_binds_fields_of_its_own():
    first, second = Party(), Party()
    assert first.fields["name"] is not second.fields["name"]
    assert first.fields["name"].parent is first and second.fields["name"].parent is second
    assert Party._declared_fields["name"].parent is None  # the class's own stay unbound
    first.fields["seats"].required = False
    assert second.fields["seats"].required is True
    assert Party().fields["seats"].required is True


def test_fields_holding_fields_are_deep_copied_so_their_children_are_their_own():
    first, second = Party(), Party()
    assert first.fields["tags"].child is not second.fields["tags"].child
    assert first.fields["tags"].child.parent is first.fields["tags"]
    outer = Outer()
    assert outer.fields["party"] is not Outer._declared_fields["party"]
    assert outer.fields["party"].fields["name"].parent is outer.fields["party"]
    assert outer.fields["parties"].child.parent is outer.fields["parties"]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "张三", "phone": "13800138000", "seats": 2}, set()),
        ({"name": "张三李四王五", "phone": "13800138000", "seats": 2}, {"name"}),
        ({"name": "张三", "phone": "12345678901", "seats": 0}, {"phone", "seats"}),
        ({"name": "张三", "phone": "13800138000", "seats": 1, "kind": "x"}, {"kind"}),
        ({"name": "张三", "phone": "13800138000", "seats": 1, "tags": ["长长长长"]}, {"tags"}),
    ],
)
def test_validation_is_drfs_and_instances_do_not_share_what_they_found(data, errors):
    for _ in range(2):  # the second instance starts afresh
        party = Party(data=data)
        assert party.is_valid() is not bool(errors)
        assert set(party.errors) == errors
    nested = Outer(data={"party": data, "parties": [data, data]})
    assert nested.is_valid() is not bool(errors)
    if errors:
        assert set(nested.errors["party"]) == errors


def test_answers_come_out_as_drfs_do():
    class Answer(Serializer):
        code = serializers.CharField(read_only=True)
        seats = serializers.IntegerField(read_only=True)
        title = serializers.CharField(source="activity.title", read_only=True)

    class Booking:
        code, seats = "AB12", 3
        activity = type("Activity", (), {"title": "春节联欢"})

    assert Answer(Booking()).data == {"code": "AB12", "seats": 3, "title": "春节联欢"}
    assert Answer([Booking(), Booking()], many=True).data[1]["title"] == "春节联欢"
