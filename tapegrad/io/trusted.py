"""load(weights_only=False): Python's own unpickler, which imports and calls whatever the file
names. Only for files you trust, as in PyTorch. Tensors are rebuilt from the checkpoint's
storages exactly as in the restricted path; torch.* names resolve to the same rebuild functions.
"""
import io
import pickle

from . import allowlist


class TrustedUnpickler(pickle.Unpickler):
    """pickle.Unpickler over `data[pos:]`, with the checkpoint's storages and torch's names;
    `pos` is the byte after the STOP opcode once `load()` returns."""

    def __init__(self, data, pos=0, persistent_load=None, encoding="utf-8"):
        self._file = io.BytesIO(data)
        self._file.seek(pos)
        super().__init__(self._file, encoding=encoding)
        self._storages = persistent_load

    def load(self):
        try:
            obj = super().load()
        except Exception as e:
            e._from_trusted_pickle = True     # what the file's code raised reaches the caller
            raise
        self.pos = self._file.tell()
        return obj

    @staticmethod
    def raised(e):
        """Whether exception `e` came out of a trusted unpickling."""
        return getattr(e, "_from_trusted_pickle", False)

    def find_class(self, module, name):
        if module == "torch" or module.startswith("torch."):
            return allowlist.torch_global(module, name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if self._storages is None:
            raise pickle.UnpicklingError("load: unexpected persistent id in this pickle")
        return self._storages(pid)
