"""The INSi material the tests share: the ANS test kit folder and the software and user the client
declares in its VIHF/header."""

from __future__ import annotations

from pathlib import Path

from facades.insi import Caller, Software

KIT = Path(__file__).resolve().parents[2].parent / "shared" / "kits" / "insi"
SOFTWARE = Software(name="OpenSGL", version="0.1.0", idam="IDAM-OPENSGL-TEST", instance="0b6c5e3e-7d7e-4f3c-9d55")
CALLER = Caller(user="bio.martin", structure="3750000001")
