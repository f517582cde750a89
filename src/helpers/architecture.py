"""What a built network is made of and what it costs (chapters 4 and 7).

Multiply-accumulates per image (``macs``, by layer or by map resolution), the convolution
weights that only ever meet padding (``padding_only``), and a layer-kind inventory for
comparing two networks (``structure``).
"""

from __future__ import annotations

import keras
import numpy as np

from helpers.models import LABELS
from helpers.wording import markdown_table


def macs(model):
    """Multiply-accumulates per image of the Conv2D and Dense layers of a built Keras model.

    A convolution costs (output height x width x filters) x (kernel height x width x input
    channels / groups, which is the kernel's third dimension); a Dense layer, inputs x units (per position, if applied to a map).
    Batch normalisation, activations, pooling and additions are left out: they cost little
    next to these and are memory-bound rather than arithmetic-bound.
    """
    return sum(macs_by_layer(model).values())


def macs_by_layer(model):
    """``{layer name: MACs per image}`` of the Conv2D and Dense layers (see ``macs``)."""
    out = {}
    for layer in layers_of(model):
        kind = type(layer).__name__
        if kind == "Conv2D":
            out[layer.name] = _conv_macs(layer)
        elif kind == "Dense":
            positions = int(np.prod(layer.output.shape[1:-1] or [1]))
            out[layer.name] = int(np.prod(layer.kernel.shape)) * positions
    return out


def macs_by_resolution(model):
    """``{height: MACs}`` of the convolutions, by the height of their output map."""
    out = {}
    for layer in layers_of(model):
        if type(layer).__name__ == "Conv2D":
            h = int(layer.output.shape[1])
            out[h] = out.get(h, 0) + _conv_macs(layer)
    return dict(sorted(out.items(), reverse=True))


def _conv_macs(layer):
    kh, kw, cin, cout = layer.kernel.shape
    _, h, w, _ = layer.output.shape
    return int(h * w * cout * kh * kw * cin)  # the kernel holds in_channels / groups


def _reach(size_in, size_out, kernel, stride, padding):
    """Along one axis of a convolution: (kernel taps that ever meet an input value rather than
    padding, the sum over output positions of the taps that meet one)."""
    before = max((size_out - 1) * stride + kernel - size_in, 0) // 2 if padding == "same" else 0
    hits = [[0 <= o * stride + t - before < size_in for t in range(kernel)]
            for o in range(size_out)]
    return sum(any(column) for column in zip(*hits)), sum(map(sum, hits))


def padding_only(layer):
    """(weights of a Conv2D that only ever multiply padding, MACs per image on input values).

    With "same" padding, a kernel wider than its map has taps that meet the zero border at
    every position (a 7x7 kernel on a 2x2 map: 40 of its 49 taps): the data give their
    weights no gradient (an L2 penalty only shrinks them), they never change what the network
    computes, and their products add nothing. Assumes channels-last maps and no dilation.
    """
    if tuple(layer.dilation_rate) != (1, 1):
        raise ValueError(f"{layer.name}: padding_only does not handle dilated convolutions")
    kh, kw, cin, cout = layer.kernel.shape
    (_, hi, wi, _), (_, ho, wo, _) = layer.input.shape, layer.output.shape
    sh, sw = layer.strides
    used_h, sum_h = _reach(hi, ho, kh, sh, layer.padding)
    used_w, sum_w = _reach(wi, wo, kw, sw, layer.padding)
    return int((kh * kw - used_h * used_w) * cin * cout), int(sum_h * sum_w * cin * cout)


def layers_of(model):
    """Every layer of ``model``, those of nested models (the augmentation in front of a
    network, say) in their place, in order."""
    for layer in model.layers:
        if hasattr(layer, "layers") and not hasattr(layer, "kernel"):  # a nested model
            yield from layers_of(layer)
        else:
            yield layer


def structure(model):
    """What a network is made of, for comparing two of them layer kind by layer kind."""
    convs = [layer for layer in layers_of(model) if type(layer).__name__ == "Conv2D"]
    # a ReLU layer has no .activation; an Activation layer names its function
    relus = [layer for layer in layers_of(model) if isinstance(layer, keras.layers.ReLU)
             or (isinstance(layer, keras.layers.Activation)
                 and getattr(layer.activation, "__name__", None) == "relu")]
    followed, total = dropout_after_convs(model)
    total_macs, on_padding = macs(model), [padding_only(c) for c in convs]
    return {
        "convolutions": len(convs),
        "kernel sizes": sorted({tuple(c.kernel_size) for c in convs}),
        "ReLUs": len(relus),
        "dropout layers": sum(type(x).__name__ == "Dropout" for x in layers_of(model)),
        "convolutions followed by dropout": followed,
        "parameters": model.count_params(),
        "trainable parameters": sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        "conv weights that only ever meet padding": sum(w for w, _ in on_padding),
        "MACs per image": total_macs,
        "MACs per image on image values (padding left out)": total_macs - sum(
            _conv_macs(c) - on_image for c, (_, on_image) in zip(convs, on_padding)),
    }


def dropout_after_convs(model):
    """(convolutions followed by a Dropout before the next conv/pool/dense layer, convolutions).

    Reads the layers in order, so it is meant for chains like the VGGs.
    """
    stops = ("Conv2D", "MaxPooling2D", "Dense", "GlobalMaxPooling2D", "Flatten")
    layers, followed, total = list(layers_of(model)), 0, 0
    for i, layer in enumerate(layers):
        if type(layer).__name__ != "Conv2D":
            continue
        total += 1
        for after in layers[i + 1:]:
            kind = type(after).__name__
            if kind == "Dropout":
                followed += 1
                break
            if kind in stops:
                break
    return followed, total


def structure_table(built):
    """``structure`` of each model in ``built`` (``{name: keras.Model}``), one column each."""
    facts = {name: structure(model) for name, model in built.items()}
    rows = []
    for key in next(iter(facts.values())):
        cells = []
        for f in facts.values():
            value = f[key]
            if key == "kernel sizes":
                value = ", ".join(f"{h}x{w}" for h, w in value)
            elif isinstance(value, int) and value >= 10_000:
                value = f"{value:,}"
            cells.append(value)
        rows.append([key, *cells])
    return markdown_table(["", *(LABELS.get(n, n) for n in built)], rows)
