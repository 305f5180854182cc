"""Voice banking: a person records a phonetically balanced script (and free messages) in their
own voice, so a synthetic voice can be trained from it before their voice changes.

Qt-free: a bank is a folder (SQLite + content-addressed takes) that the CLI (`timbre bank`)
and the studio's banking panel both work on.
"""
