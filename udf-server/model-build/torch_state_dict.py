"""Reads a PyTorch state dict (.pth) into numpy arrays without PyTorch.

Both of torch.save's formats are handled: the legacy one (consecutive pickles, then the raw
storages in the order of the storage-key list) and the zip one (data.pkl plus data/<key> files).
Only tensors, OrderedDict and plain containers are accepted: any other class in the pickle is
refused, so a hostile file cannot run code.
"""

import collections
import pickle
import struct
import zipfile

import numpy as np

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _Tensor:
    """A tensor reference: resolved into a numpy array once all storages are read."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


class _Storage:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, key, numel


def _rebuild_tensor_v2(storage, offset, size, stride, *_rest):
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file):
        super().__init__(file)
        self.storages = {}

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id kind {kind!r}")
        name = storage_type if isinstance(storage_type, str) else str(storage_type)
        if name not in _DTYPES:
            raise pickle.UnpicklingError(f"unsupported storage type {name}")
        storage = self.storages.setdefault(key, _Storage(np.dtype(_DTYPES[name]), key, numel))
        return storage


def _materialise(state, buffers):
    out = collections.OrderedDict()
    for name, t in state.items():
        if not isinstance(t, _Tensor):
            continue
        flat = buffers[t.storage.key]
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[t.offset :], shape=t.size, strides=tuple(s * item for s in t.stride)
        )
        out[name] = np.array(view, copy=True)
    return out


def _load_legacy(f):
    if pickle.load(f) != _LEGACY_MAGIC:
        raise ValueError("not a PyTorch weights file (bad magic number)")
    pickle.load(f)  # protocol version
    sys_info = pickle.load(f)
    if not sys_info.get("little_endian", True):
        raise ValueError("big-endian weights files are not supported")
    unpickler = _Unpickler(f)
    state = unpickler.load()
    storages = unpickler.storages
    keys = pickle.load(f)
    buffers = {}
    for key in keys:
        (numel,) = struct.unpack("<q", f.read(8))
        dtype = storages[key].dtype
        buffers[key] = np.frombuffer(f.read(numel * dtype.itemsize), dtype=dtype)
    return _materialise(state, buffers)


def _load_zip(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = next(n for n in names if n.endswith("/data.pkl"))
        prefix = pkl[: -len("data.pkl")]
        unpickler = _Unpickler(z.open(pkl))
        state = unpickler.load()
        storages = unpickler.storages
        buffers = {
            key: np.frombuffer(z.read(f"{prefix}data/{key}"), dtype=s.dtype)[: s.numel] for key, s in storages.items()
        }
    return _materialise(state, buffers)


def load_state_dict(path):
    """Returns the state dict in `path` as an ordered {name: numpy array}."""
    if zipfile.is_zipfile(path):
        return _load_zip(path)
    with open(path, "rb") as f:
        return _load_legacy(f)
