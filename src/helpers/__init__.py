"""Helpers for the book "Four CNNs on CIFAR-10, in Keras 3".

The notebooks import from here, so each piece of model, data and training code exists once.
The package imports only ``keras`` and ``numpy`` at import time; TensorFlow-only pieces
(``tf.data``, ``tf.config``) import TensorFlow inside the functions that need it, so the
models and the training loop also run on Keras' JAX and PyTorch backends.
"""

import os

# TensorFlow turns oneDNN's CPU kernels on by itself only on CPUs with AVX_VNNI, AVX512_VNNI,
# AVX512_BF16 or AMX (devices.ONEDNN_DEFAULT_FLAGS), not on others; with them a ResNet18
# training step on 2 cores was 3x to 7x faster in this project's runs (chapter 1). Only takes
# effect if set before TensorFlow is imported, so importing helpers first is enough.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"


def start_quietly():
    """Start TensorFlow (where it is Keras' backend) with its C++ start-up messages hidden.

    TensorFlow prints them to the process's stderr before its log level applies, and they carry
    timestamps, so they would land in every notebook's outputs. Called by the notebooks' setup
    cell, on every backend (TensorFlow may be installed and imported later for tf.data); does
    nothing without TensorFlow.
    """
    import sys

    # On another backend TensorFlow may still be installed and imported later (tf.data, the
    # preprocessing layers): start it here, quietly, all the same.
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            import tensorflow as tf

            if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
                tf.config.list_physical_devices()
            else:
                # TensorFlow only feeds data here (tf.data): keep it off the GPU, whose memory
                # the backend needs (JAX takes most of it at start), as JAX's guide to tf.data
                # advises; TensorFlow would otherwise reserve what is left on first use
                try:
                    tf.config.set_visible_devices([], "GPU")
                except RuntimeError:  # TensorFlow had started its devices already
                    pass
        finally:
            os.dup2(saved, 2)
            os.close(devnull)
            os.close(saved)
    except ImportError:
        pass
