"""Training a Piper voice from a bank with piper's own trainer (``piper.train``).

``align`` stands in for piper's uncompiled Cython alignment, ``bases`` finds and loads the
checkpoint a voice is fine-tuned from (weights-only), ``run`` drives piper's Lightning
module with progress, cancel and resumable checkpoints, ``driver`` runs it to its step
count here or (with ``remote``) on a Ray cluster in chunks, ``export`` writes the ONNX voice
and its config, ``gate`` checks the result before it is offered.
"""
