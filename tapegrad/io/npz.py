"""NumPy's .npy and .npz files (np.save / np.savez), read into tensors without pickle.

Headers are parsed by numpy.lib.format; the data is sized against the header before any array
is made, so a header claiming a huge shape is an error, not an allocation.
"""
import io
import pickle
from collections import OrderedDict

import numpy as np

from .. import dtypes
from ..creation import from_numpy
from . import tensors
from .zipformat import Records


def read_npz(zf, size):
    """The `.npy` members of zip archive `zf` as an OrderedDict name -> Tensor."""
    out, records = OrderedDict(), Records(zf, size)
    for info in zf.infolist():
        if info.filename.endswith(".npy"):
            out[info.filename[:-4]] = read_npy(records.read(info.filename), info.filename)
    return out


def read_npy(data, name="array"):
    """The tensor in .npy bytes `data`."""
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dt = np.lib.format.read_array_header_1_0(f)
    else:
        shape, fortran, dt = np.lib.format.read_array_header_2_0(f)
    if dt.hasobject:
        raise pickle.UnpicklingError(f"load: {name} holds Python objects, which would need "
                                     "pickle; refused")
    native = dt.newbyteorder("=") if dt.byteorder in "<>" else dt
    try:
        dtypes.as_dtype(native)
    except TypeError:
        raise RuntimeError(f"load: {name} has dtype {dt}, which tapegrad does not "
                           "support") from None
    if any(type(n) is not int or n < 0 for n in shape):
        raise RuntimeError(f"load: {name} has an invalid shape {tensors.show_dims(shape)}")
    start = f.tell()
    count = tensors.count(shape, (len(data) - start) // max(dt.itemsize, 1))
    if count is None:
        raise RuntimeError(f"load: {name} is truncated: its header says "
                           f"{tensors.show_dims(shape)} {dt}")
    flat = np.frombuffer(data, dt, count, start)
    return from_numpy(flat.reshape(shape, order="F" if fortran else "C").astype(native))
