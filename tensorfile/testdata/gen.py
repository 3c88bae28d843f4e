#!/usr/bin/python3
"""Regenerate the tensorfile test fixtures with numpy (and onnx for .pb).

Run with Debian's Python, which has numpy and onnx:
    cd tensorfile/testdata && /usr/bin/python3 gen.py
The expected values are written out literally in ../tensorfile_test.go;
keep the two in step.
"""
import io

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def save_version(path, arr, version):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version)


# float32, C order, 2x3, with -0, NaN and Inf.
np.save("f32.npy", np.array([[0, 1.5, -2], [-0.0, np.nan, np.inf]], dtype="<f4"))
# float64 big-endian 2x3.
np.save("f64_be.npy", (np.arange(6).reshape(2, 3) / 4).astype(">f8"))
# Fortran order 2x3x4 float32: values k = row-major index.
np.save("f32_fortran.npy", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
# Fortran order, big-endian int64 3x2.
np.save("i64_be_fortran.npy", np.asfortranarray(np.array([[1, -2], [3, -4], [5, 1 << 40]], dtype=">i8")))
# float16: 1, -2.5, smallest subnormal, max, inf, nan.
np.save("f16.npy", np.array([1, -2.5, 2.0**-24, 65504, np.inf, np.nan], dtype="<f2"))
# bool 3x2.
np.save("bool.npy", np.array([[True, False], [False, True], [True, True]]))
# 0-d float64 scalar.
np.save("scalar.npy", np.array(3.25))
# Empty 0x3 int32.
np.save("empty.npy", np.zeros((0, 3), dtype="<i4"))
# Header versions 2.0 and 3.0 (numpy only picks them when needed; force them).
save_version("v2.npy", np.array([1, 2, 3], dtype="<i2"), (2, 0))
save_version("v3.npy", np.array([7, 8], dtype="|u1"), (3, 0))

# npz, stored (np.savez) and deflated (np.savez_compressed).
np.savez(
    "stored.npz",
    logits=np.array([[0.5, -1], [2, 3]], dtype="<f4"),
    labels=np.array([1, 0], dtype="<i8"),
)
np.savez_compressed(
    "compressed.npz",
    i8=np.array([-128, 0, 127], dtype="i1"),
    u8=np.array([0, 255], dtype="u1"),
    i32=np.array([[-(2**31), 2**31 - 1]], dtype=">i4"),
    mask=np.array([True, False]),
)

# Files that must be rejected with a clear error.
np.save("bad_unicode.npy", np.array(["abc", "de"]))
np.save("bad_object.npy", np.array([1, "x", None], dtype=object), allow_pickle=True)
np.save("bad_struct.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]))
np.save("bad_complex.npy", np.array([1 + 2j], dtype="<c8"))
np.savez("bad_member.npz", x=np.array(["abc"]))
# Truncated: header claims 2x3 float64 but only 2 values follow.
buf = io.BytesIO()
np.save(buf, np.zeros((2, 3)))
with open("bad_truncated.npy", "wb") as f:
    f.write(buf.getvalue()[: -4 * 8])

# ONNX TensorProto: typed fields and raw_data.
t = helper.make_tensor("typed", TensorProto.FLOAT, [2, 2], [1, 2, 3, 4.5])
open("typed_float.pb", "wb").write(t.SerializeToString())
t = helper.make_tensor("", TensorProto.INT64, [3], [1, -1, 1 << 50])
open("typed_int64.pb", "wb").write(t.SerializeToString())
t = helper.make_tensor("h", TensorProto.FLOAT16, [2], np.array([1.5, -0.25], dtype=np.float16))
open("typed_f16.pb", "wb").write(t.SerializeToString())
t = helper.make_tensor("b", TensorProto.BOOL, [3], [True, False, True])
open("typed_bool.pb", "wb").write(t.SerializeToString())
t = helper.make_tensor("d", TensorProto.DOUBLE, [2], [0.1, -1e300])
open("typed_double.pb", "wb").write(t.SerializeToString())
t = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2), name="raw")
open("raw_float.pb", "wb").write(t.SerializeToString())
