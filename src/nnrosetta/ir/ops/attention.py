import numpy as np

from nnrosetta.ir.registry import Attr, op

# ONNX TensorProto element types softmax_precision may name (0: not set = the input type)
PRECISIONS = {0: np.float32, 1: np.float32, 10: np.float16, 11: np.float64}


def split_extra(inputs):
    """The optional inputs after Q, K, V by count: ``(attn_mask, past_key, past_value)``
    (each ``None`` when absent). 4 inputs: a mask; 5: past key and value; 6: all three."""
    extra = list(inputs[3:])
    if len(extra) == 0:
        return None, None, None
    if len(extra) == 1:
        return extra[0], None, None
    if len(extra) == 2:
        return None, extra[0], extra[1]
    if len(extra) == 3:
        return extra[0], extra[1], extra[2]
    raise ValueError(f"Attention takes 3 to 6 inputs, got {len(inputs)}")


def dims(attrs, q, k, v):
    """The 4-D view of the problem: (batch, q_heads, kv_heads, q_len, kv_len, head, v_head),
    from 3-D ``[batch, seq, heads * size]`` or 4-D ``[batch, heads, seq, size]`` inputs."""
    q, k, v = tuple(q), tuple(k), tuple(v)
    if not len(q) == len(k) == len(v) or len(q) not in (3, 4):
        raise ValueError(f"Q, K, V must all be 3-D or all 4-D, got {q}, {k}, {v}")
    if len(q) == 3:
        hq, hkv = attrs["q_num_heads"], attrs["kv_num_heads"]
        if hq < 1 or hkv < 1:
            raise ValueError("3-D inputs need q_num_heads and kv_num_heads")
        if q[2] % hq or k[2] % hkv or v[2] % hkv:
            raise ValueError(f"hidden sizes {q[2]}, {k[2]}, {v[2]} do not split into "
                             f"{hq} (Q) / {hkv} (K, V) heads")
        b, sq, sk = q[0], q[1], k[1]
        d, dk, dv = q[2] // hq, k[2] // hkv, v[2] // hkv
        if k[1] != v[1]:
            raise ValueError(f"K and V sequence lengths differ: {k} and {v}")
    else:
        b, hq, sq, d = q
        _, hkv, sk, dk = k
        if v[1] != hkv or v[2] != sk:
            raise ValueError(f"K {k} and V {v} differ in heads or sequence length")
        dv = v[3]
    if d != dk:
        raise ValueError(f"Q head size {d} differs from K head size {dk}")
    if k[0] != b or v[0] != b:
        raise ValueError(f"batch sizes differ: {q}, {k}, {v}")
    if hq % hkv:
        raise ValueError(f"{hq} query heads are not a multiple of {hkv} key/value heads")
    return b, hq, hkv, sq, sk, d, dv


def _check_mask(mask, b, hq, sq, total):
    mask = tuple(mask)
    if not mask or mask[-1] > total:
        raise ValueError(f"attn_mask {mask}: its last dim must be 1..{total} (the keys)")
    target = (b, hq, sq, total)
    padded = mask[:-1] + (total,)
    if len(padded) > 4 or np.broadcast_shapes(padded, target) != target:
        raise ValueError(f"attn_mask {mask} does not broadcast to {list(target)}")


@op("Attention", inputs=["Q", "K", "V", "extra*"],
    outputs=["Y", "present_key", "present_value", "qk_matmul_output"], attrs={
        "is_causal": Attr("bool", False, "mask keys after the query (offset by the past)"),
        "q_num_heads": Attr("int", 0, "query heads, for 3-D inputs (0: 4-D inputs)"),
        "kv_num_heads": Attr("int", 0, "key/value heads, for 3-D inputs (0: 4-D inputs)"),
        "qk_matmul_output_mode": Attr("int", 0, "what output 3 holds: 0/1 the scaled "
                                      "(softcapped) Q K^T, 2 with the mask added, 3 after "
                                      "the softmax", choices=(0, 1, 2, 3)),
        "scale": Attr("float", 0.0, "multiplies Q K^T (0: 1/sqrt(head size))"),
        "softcap": Attr("float", 0.0, "softcap * tanh(x / softcap) on the scores (0: off)"),
        "softmax_precision": Attr("int", 0, "ONNX element type the softmax runs in (0/1 "
                                  "float32, 10 float16, 11 float64)",
                                  choices=tuple(PRECISIONS)),
        "left_window_size": Attr("int", -1, "keys at most this far before the query's "
                                 "position (-1: unbounded)"),
        "right_window_size": Attr("int", -1, "keys at most this far after the query's "
                                  "position (-1: unbounded)"),
        "num_outputs": Attr("int", 1, "outputs computed: Y, present_key, present_value, "
                            "qk_matmul_output (1..4)", choices=(1, 2, 3, 4)),
    })
class Attention:
    """Scaled dot-product attention, ONNX's ``Attention`` (opset 23..25):
    ``Y = softmax(softcap(scale * Q K^T) + bias) V`` per head.

    Inputs ``Q, K, V``, then optionally ``attn_mask`` (float, additive; broadcasts to
    ``[batch, q_heads, q_len, kv_len]``, a shorter last dim is padded with ``-inf``) and
    optionally ``past_key, past_value`` (``[batch, kv_heads, past_len, size]``, concatenated
    before K and V along the sequence): 3 inputs, 4 (mask), 5 (past, no mask) or 6.

    Q, K, V are 4-D ``[batch, heads, seq, size]``, or 3-D ``[batch, seq, heads * size]``
    with ``q_num_heads`` and ``kv_num_heads`` (split into heads, and Y merged back to 3-D).
    Fewer key/value heads than query heads (grouped-query attention) repeat each key/value
    head ``q_heads / kv_heads`` times (``h0, h0, h1, h1, ...``). ``scale`` defaults to
    ``1 / sqrt(head size)``; it is applied as ``sqrt(scale)`` to Q and to K, as ONNX does.
    The bias is the mask plus, with ``is_causal``, ``-inf`` where key ``j > i + past_len``
    and, with window sizes (opset 25), ``-inf`` outside the window around ``i + past_len``.
    A query row whose bias is ``-inf`` everywhere gets zero weights (Y = 0 there).
    Outputs: Y (shaped like Q, with V's head size), ``present_key`` / ``present_value``
    (K and V after the past, 4-D) and ``qk_matmul_output`` (see
    ``qk_matmul_output_mode``); ``num_outputs`` says how many are computed.

    Equivalents: ONNX ``Attention``; PyTorch ``F.scaled_dot_product_attention`` (with
    ``enable_gqa``; no softcap or fully-masked-row rule) or the explicit matmul / softmax /
    matmul; TensorFlow ``keras.layers.MultiHeadAttention`` (with its projections); Caffe has
    none.
    """

    @staticmethod
    def num_outputs(attrs):
        return int(attrs["num_outputs"])

    @staticmethod
    def infer(attrs, shapes, weights):
        mask, past_k, past_v = split_extra(shapes)
        q, k, v = (tuple(s) for s in shapes[:3])
        b, hq, hkv, sq, sk, d, dv = dims(attrs, q, k, v)
        past = 0
        if past_k is not None:
            past_k, past_v = tuple(past_k), tuple(past_v)
            if len(past_k) != 4 or past_k[:2] != (b, hkv) or past_k[3] != d:
                raise ValueError(f"past_key {past_k} does not match [{b}, {hkv}, *, {d}]")
            if len(past_v) != 4 or past_v[:3] != past_k[:3] or past_v[3] != dv:
                raise ValueError(f"past_value {past_v} does not match "
                                 f"[{b}, {hkv}, {past_k[2]}, {dv}]")
            past = past_k[2]
        total = past + sk
        if mask is not None:
            _check_mask(mask, b, hq, sq, total)
        y = (b, sq, hq * dv) if len(q) == 3 else (b, hq, sq, dv)
        outs = [y, (b, hkv, total, d), (b, hkv, total, dv), (b, hq, sq, total)]
        return outs[:Attention.num_outputs(attrs)]

    @staticmethod
    def reference(attrs, inputs, weights):
        Attention.infer(attrs, [x.shape for x in inputs], {})
        out_dtype = inputs[0].dtype
        mask, past_k, past_v = split_extra(inputs)
        q, k, v = inputs[:3]
        b, hq, hkv, sq, sk, d, dv = dims(attrs, q.shape, k.shape, v.shape)
        three_d = q.ndim == 3
        if three_d:   # [b, seq, heads * size] -> [b, heads, seq, size]
            q = q.reshape(b, sq, hq, d).transpose(0, 2, 1, 3)
            k = k.reshape(b, sk, hkv, d).transpose(0, 2, 1, 3)
            v = v.reshape(b, sk, hkv, dv).transpose(0, 2, 1, 3)
        past = 0
        if past_k is not None:
            past = past_k.shape[2]
            k = np.concatenate([past_k, k], axis=2)
            v = np.concatenate([past_v, v], axis=2)
        present_k, present_v = k, v
        total = k.shape[2]

        # the additive bias: mask (padded with -inf to the keys), causal, window
        bias = np.zeros((sq, total), dtype=out_dtype)
        if mask is not None:
            m = mask.astype(out_dtype)
            if m.shape[-1] < total:
                pad = [(0, 0)] * (m.ndim - 1) + [(0, total - m.shape[-1])]
                m = np.pad(m, pad, constant_values=-np.inf)
            bias = bias + m
        allowed = allowed_keys(attrs, sq, total, past)
        if allowed is not None:
            bias = np.where(allowed, bias, out_dtype.type(-np.inf))

        if hkv != hq:   # grouped-query attention: h0, h0, h1, h1, ...
            k = np.repeat(k, hq // hkv, axis=1)
            v = np.repeat(v, hq // hkv, axis=1)
        scale = attrs["scale"] or 1.0 / np.sqrt(d)
        s = out_dtype.type(np.sqrt(scale))
        scores = np.matmul(q * s, np.swapaxes(k, -1, -2) * s)
        cap = attrs["softcap"]
        if cap > 0:
            scores = (cap * np.tanh(scores / cap)).astype(out_dtype)
        qk = scores
        with np.errstate(invalid="ignore", over="ignore"):
            scores = scores + bias
            if attrs["qk_matmul_output_mode"] == 2:
                qk = scores
            x = scores.astype(PRECISIONS[attrs["softmax_precision"]])
            top = np.max(x, axis=-1, keepdims=True)
            e = np.exp(x - np.where(np.isneginf(top), 0, top))
            total_e = np.sum(e, axis=-1, keepdims=True)
            probs = e / np.where(total_e == 0, 1, total_e)
        probs = np.where(np.isneginf(bias.max(axis=-1, keepdims=True)), 0, probs)
        probs = probs.astype(out_dtype)
        if attrs["qk_matmul_output_mode"] == 3:
            qk = probs
        y = np.matmul(probs, v)
        if three_d:
            y = y.transpose(0, 2, 1, 3).reshape(b, sq, hq * dv)
        outs = [y, present_k, present_v, np.broadcast_to(qk, (b, hq, sq, total))]
        return [np.ascontiguousarray(o, dtype=out_dtype)
                for o in outs[:Attention.num_outputs(attrs)]]


def allowed_keys(attrs, q_len, kv_len, past):
    """``[q_len, kv_len]`` booleans: may query ``i`` see key ``j`` (causal and window rules,
    query ``i`` standing at position ``i + past``); None when every key is allowed."""
    left, right = attrs["left_window_size"], attrs["right_window_size"]
    if not attrs["is_causal"] and left < 0 and right < 0:
        return None
    diff = (np.arange(q_len)[:, None] + past) - np.arange(kv_len)[None, :]   # pos - j
    allowed = np.ones((q_len, kv_len), dtype=bool)
    if attrs["is_causal"]:
        allowed &= diff >= 0
    if left >= 0:
        allowed &= diff <= left
    if right >= 0:
        allowed &= -diff <= right
    return allowed
