"""The checks `jobs/*.py` make under spark-submit before a session exists
(olx_spark.spark.submit_check); tests/cluster/test_cluster_errors.py runs them for real."""

from __future__ import annotations

import socket

import pytest

from olx_spark.spark.submit_check import (
    SubmitSetupError,
    check_classes,
    check_master,
    check_spark_submit,
    master_addresses,
    same_location,
    submitted_warehouse,
)


def test_master_addresses_of_standalone_urls_only() -> None:
    assert master_addresses("spark://a:7077,b:7078") == [("a", 7077), ("b", 7078)]
    assert master_addresses("local[2]") == []
    assert master_addresses("yarn") == []
    with pytest.raises(SubmitSetupError, match="--master"):
        master_addresses("spark://nohost")


def test_a_master_nobody_listens_on_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SubmitSetupError, match=r"spark\.master\) is not reachable"):
        check_master(f"spark://127.0.0.1:{port}", seconds=2)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_master(f"spark://127.0.0.1:{server.getsockname()[1]}")


def test_a_class_that_does_not_load_names_its_setting_and_the_option() -> None:
    settings = {"spark.hadoop.javax.jdo.option.ConnectionDriverName": "x.Driver"}
    with pytest.raises(SubmitSetupError, match="--driver-class-path"):
        check_classes(settings.get, lambda name: False)
    check_classes(settings.get, lambda name: True)
    check_classes({}.get, lambda name: False)  # nothing named, nothing checked


def test_outside_spark_submit_nothing_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    check_spark_submit()


def test_same_location_ignores_spelling_only(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert same_location(f"file:{tmp_path}/wh/", str(tmp_path / "wh"))
    assert same_location(f"file://{tmp_path}/wh", "wh")
    assert same_location("s3a://bucket/wh/", "s3://bucket/wh")
    assert not same_location("s3a://bucket/wh", "s3a://bucket/wh2")
    assert not same_location("hdfs://nn/wh", "/wh")
    assert not same_location(str(tmp_path / "a"), str(tmp_path / "b"))


def test_outside_spark_submit_no_warehouse_is_submitted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert submitted_warehouse() is None
