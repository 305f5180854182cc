"""Local services that let other programs speak with the studio's voices (``timbre serve``)."""
