"""Typed setting declarations: a typo fails at once, a bad stored value reads as the
default, and keys a newer app wrote are kept."""

from __future__ import annotations

import json

import pytest

from engines.settings import get_setting, set_setting, settings_path


def test_undeclared_keys_and_bad_values_are_refused():
    with pytest.raises(KeyError, match="not declared"):
        get_setting("watermrak")
    with pytest.raises(ValueError, match="not a valid value"):
        set_setting("watermark", "yes")


def test_a_hand_edited_file_reads_as_defaults_where_wrong_and_keeps_unknown_keys():
    import desktop.ui  # noqa: F401 - declares the studio's own settings

    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"watermark": "off", "theme": "purple", "font_scale": 99,
                                "from_a_newer_app": [1, 2]}))
    assert get_setting("watermark") is True
    assert get_setting("theme") == "dark" and get_setting("font_scale") == 1.0
    set_setting("theme", "light")
    stored = json.loads(path.read_text())
    assert stored["theme"] == "light" and stored["from_a_newer_app"] == [1, 2]
