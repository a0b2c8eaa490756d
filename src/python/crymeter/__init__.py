# SPDX-License-Identifier: MIT
"""crymeter for Python: crying, sobbing and vocalisation episodes with their loudness.

A thin ctypes layer over libcrymeter.so (include/crymeter.h): the same analysis, the same
numbers as `crymeter analyze`. No compiler is needed; numpy is needed only to push arrays.

    import crymeter
    result = crymeter.analyze("night.flac")           # a file libsndfile reads
    for ep in result.episodes: print(ep.cls, ep.start_s, ep.end_s, ep.spl_db_max)
    df = result.to_pandas()                           # where pandas is installed

    with crymeter.Analyzer(16000, 1, loud_db=70) as a:   # streaming, any chunking
        for block in blocks:                          # numpy int16 or float32, (n,) or (n, ch)
            a.push(block)
            for rec in a.poll(): ...                  # Record(kind, episode or summary)
        a.finish()

Options (keyword arguments of analyze and Analyzer) are crymeter_config's fields:
model_path, spl_offset_db, calibrated, loud_db, long_s, merge_gap_s, min_episode_s,
true_peak, threads, levels, queue_capacity. Errors raise crymeter.Error with crymeter's own
message. The GIL is released while the library analyses (ctypes does so for every call), so
analyzers on several threads run in parallel.
"""
import ctypes
import ctypes.util
import math
import os
import threading
from dataclasses import dataclass, fields

__all__ = ["analyze", "Analyzer", "Episode", "Summary", "Level", "Record", "Result", "Error",
           "version"]

CLASS_NAMES = ("background", "vocal", "cry", "sob")
KIND_NAMES = ("start", "excessive", "end", "summary")


class Error(Exception):
    """A crymeter error; str() is crymeter's message (the field, value and allowed range,
    or the file and what is wrong)."""


# ---- the library ----------------------------------------------------------------------

def _load():
    """libcrymeter.so.0: $CRYMETER_LIBRARY, the path recorded at install, then the system's."""
    tried = []
    cands = [os.environ.get("CRYMETER_LIBRARY")]
    try:
        from . import _libpath  # written by `make install` and the .deb
        cands.append(_libpath.LIBRARY)
    except ImportError:
        pass
    cands += ["libcrymeter.so.0", ctypes.util.find_library("crymeter")]
    for c in cands:
        if not c:
            continue
        try:
            return ctypes.CDLL(c)
        except OSError as e:
            tried.append(f"{c}: {e}")
    raise ImportError("crymeter: cannot load libcrymeter.so.0 (install crymeter, or set "
                      "CRYMETER_LIBRARY to its path); tried " + "; ".join(tried))


_lib = _load()
_create_lock = threading.Lock()


class _Episode(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("cls", ctypes.c_int), ("start_s", ctypes.c_double),
                ("end_s", ctypes.c_double), ("duration_s", ctypes.c_double),
                ("confidence", ctypes.c_double), ("lufs_momentary_max", ctypes.c_double),
                ("dba_max", ctypes.c_double), ("peak_dbfs", ctypes.c_double),
                ("spl_db_max", ctypes.c_double), ("calibrated", ctypes.c_int),
                ("f0_median_hz", ctypes.c_double), ("excessive", ctypes.c_uint),
                ("loud_excess_db", ctypes.c_double), ("long_excess_s", ctypes.c_double),
                ("sob_pulses", ctypes.c_uint), ("sob_pulse_rate_hz", ctypes.c_double),
                ("sob_pulse_cv", ctypes.c_double)]


class _Summary(ctypes.Structure):
    _fields_ = [("duration_s", ctypes.c_double), ("frames_read", ctypes.c_uint64),
                ("frames_analyzed", ctypes.c_uint64), ("nonfinite_samples", ctypes.c_uint64),
                ("episodes", ctypes.c_uint), ("episodes_by_class", ctypes.c_uint * 4),
                ("lufs_integrated", ctypes.c_double), ("lra_lu", ctypes.c_double),
                ("true_peak_dbtp", ctypes.c_double), ("sample_peak_dbfs", ctypes.c_double),
                ("records_dropped", ctypes.c_uint64)]


class _Level(ctypes.Structure):
    _fields_ = [("t_s", ctypes.c_double), ("lufs_momentary", ctypes.c_double),
                ("dba_fast", ctypes.c_double), ("spl_db", ctypes.c_double),
                ("peak_dbfs", ctypes.c_double), ("cls", ctypes.c_int),
                ("score", ctypes.c_double), ("in_episode", ctypes.c_int)]


class _Record(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("episode", _Episode), ("summary", _Summary)]


_EPISODE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_Episode))
_LEVEL_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_Level))


class _Config(ctypes.Structure):
    _fields_ = [("rate_hz", ctypes.c_uint), ("channels", ctypes.c_uint),
                ("model_path", ctypes.c_char_p), ("spl_offset_db", ctypes.c_double),
                ("calibrated", ctypes.c_int), ("loud_db", ctypes.c_double),
                ("long_s", ctypes.c_double), ("merge_gap_s", ctypes.c_double),
                ("min_episode_s", ctypes.c_double), ("true_peak", ctypes.c_int),
                ("threads", ctypes.c_uint), ("levels", ctypes.c_int),
                ("queue_capacity", ctypes.c_size_t), ("on_episode", _EPISODE_FN),
                ("on_level", _LEVEL_FN), ("user", ctypes.c_void_p)]


def _sig(name, res, *args):
    f = getattr(_lib, name)
    f.restype, f.argtypes = res, list(args)
    return f


_version = _sig("crymeter_version", ctypes.c_char_p)
_status_str = _sig("crymeter_status_str", ctypes.c_char_p, ctypes.c_int)
_config_init = _sig("crymeter_config_init", None, ctypes.POINTER(_Config), ctypes.c_uint,
                    ctypes.c_uint)
_create = _sig("crymeter_create", ctypes.c_int, ctypes.POINTER(_Config), ctypes.c_void_p,
               ctypes.c_char_p, ctypes.c_size_t)
_destroy = _sig("crymeter_destroy", None, ctypes.c_void_p)
_push_float = _sig("crymeter_push_float", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                   ctypes.c_size_t)
_push_s16 = _sig("crymeter_push_s16", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                 ctypes.c_size_t)
_finish = _sig("crymeter_finish", ctypes.c_int, ctypes.c_void_p)
_poll = _sig("crymeter_poll", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Record))
_get_summary = _sig("crymeter_get_summary", ctypes.c_int, ctypes.c_void_p,
                    ctypes.POINTER(_Summary))
_level_latest = _sig("crymeter_level_latest", ctypes.c_int, ctypes.c_void_p,
                     ctypes.POINTER(_Level))
_latency = _sig("crymeter_latency_s", ctypes.c_double, ctypes.c_void_p)


def version():
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return _version().decode()


# ---- plain Python results --------------------------------------------------------------

@dataclass(frozen=True)
class Episode:
    """One episode, as crymeter's JSON Lines have it (cls: "cry", "sob", "vocal", ...)."""
    id: int
    cls: str
    start_s: float
    end_s: float
    duration_s: float
    confidence: float
    lufs_momentary_max: float
    dba_max: float
    peak_dbfs: float
    spl_db_max: float
    calibrated: bool
    f0_median_hz: float
    excessive: tuple
    loud_excess_db: float
    long_excess_s: float
    sob_pulses: int
    sob_pulse_rate_hz: float
    sob_pulse_cv: float

    @classmethod
    def _from(cls, e):
        exc = tuple(n for bit, n in ((1, "loud"), (2, "long")) if e.excessive & bit)
        return cls(int(e.id), CLASS_NAMES[e.cls] if 0 <= e.cls < 4 else "?", e.start_s, e.end_s,
                   e.duration_s, e.confidence, e.lufs_momentary_max, e.dba_max, e.peak_dbfs,
                   e.spl_db_max, bool(e.calibrated), e.f0_median_hz, exc, e.loud_excess_db,
                   e.long_excess_s, int(e.sob_pulses), e.sob_pulse_rate_hz, e.sob_pulse_cv)


@dataclass(frozen=True)
class Summary:
    """The whole input (final after finish)."""
    duration_s: float
    frames_read: int
    frames_analyzed: int
    nonfinite_samples: int
    episodes: int
    episodes_by_class: dict
    lufs_integrated: float
    lra_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    records_dropped: int

    @classmethod
    def _from(cls, s):
        return cls(s.duration_s, int(s.frames_read), int(s.frames_analyzed),
                   int(s.nonfinite_samples), int(s.episodes),
                   {CLASS_NAMES[i]: int(s.episodes_by_class[i]) for i in range(4)},
                   s.lufs_integrated, s.lra_lu, s.true_peak_dbtp, s.sample_peak_dbfs,
                   int(s.records_dropped))


@dataclass(frozen=True)
class Level:
    """A level reading per 100 ms (levels=1)."""
    t_s: float
    lufs_momentary: float
    dba_fast: float
    spl_db: float
    peak_dbfs: float
    cls: str
    score: float
    in_episode: bool

    @classmethod
    def _from(cls, lv):
        return cls(lv.t_s, lv.lufs_momentary, lv.dba_fast, lv.spl_db, lv.peak_dbfs,
                   CLASS_NAMES[lv.cls] if 0 <= lv.cls < 4 else "?", lv.score,
                   bool(lv.in_episode))


@dataclass(frozen=True)
class Record:
    """kind: "start", "excessive", "end" (episode set) or "summary" (summary set)."""
    kind: str
    episode: Episode = None
    summary: Summary = None


@dataclass(frozen=True)
class Result:
    """What analyze returns: the completed episodes, in order, and the summary."""
    episodes: list
    summary: Summary

    def to_pandas(self):
        """The episodes as a pandas DataFrame, one row per episode (needs pandas)."""
        import pandas as pd  # optional dependency: only this method needs it
        cols = [f.name for f in fields(Episode)]
        return pd.DataFrame([[getattr(e, c) for c in cols] for e in self.episodes],
                            columns=cols)


# ---- the analyzer ----------------------------------------------------------------------

_OPTIONS = ("model_path", "spl_offset_db", "calibrated", "loud_db", "long_s", "merge_gap_s",
            "min_episode_s", "true_peak", "threads", "levels", "queue_capacity")


class Analyzer:
    """A streaming analysis of rate (8000..192000 Hz) audio with channels (1..64) channels.

    push(array) takes numpy int16 or float32/float64 samples, shape (frames,) for one
    channel or (frames, channels), in any chunking: the results are the same. poll() returns
    the records queued since the last poll (or on_record(record) is called instead, on the
    pushing thread). level() is the latest 100 ms reading (levels=1). finish() ends the input
    and returns the Result. One thread at a time per analyzer; close() (or the with block)
    frees it."""

    def __init__(self, rate, channels=1, on_record=None, **options):
        bad = sorted(set(options) - set(_OPTIONS))
        if bad:
            raise TypeError(f"crymeter.Analyzer: unknown option {bad[0]!r}; known: "
                            + ", ".join(_OPTIONS))
        for name, v in (("rate", rate), ("channels", channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0 or v > 1_000_000:
                raise Error(f"{name}={v!r}: expected a positive whole number")
        self._lock = threading.RLock()
        self._in_callback = False
        self._cb_error = None
        self._h = None
        self._on_record = on_record
        self._channels = channels
        self._episodes = []
        self._queue = []
        self._summary = None
        self._finished = False
        cfg = _Config()
        _config_init(ctypes.byref(cfg), rate, channels)
        for k, v in options.items():
            if k == "model_path":
                cfg.model_path = os.fsencode(v) if v is not None else None
            elif k in ("calibrated", "true_peak", "levels"):
                cfg.__setattr__(k, 1 if v else 0)
            elif k in ("threads", "queue_capacity"):
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise Error(f"{k}={v!r}: expected a whole number >= 0")
                setattr(cfg, k, v)
            else:
                try:
                    setattr(cfg, k, float(v))
                except (TypeError, ValueError):
                    raise Error(f"{k}={v!r}: expected a number") from None
        # Episodes come through the callback (kept for finish()'s Result, and queued for
        # poll()); the ctypes callback object must live as long as the analyzer.
        self._cb = _EPISODE_FN(self._on_episode)
        cfg.on_episode = self._cb
        self._cfg = cfg
        h = ctypes.c_void_p()
        msg = ctypes.create_string_buffer(512)
        with _create_lock:  # libebur128 fills shared tables on creation
            st = _create(ctypes.byref(cfg), ctypes.byref(h), msg, len(msg))
        if st != 0:
            raise Error(msg.value.decode(errors="replace") or _status_str(st).decode())
        self._h = h

    def _on_episode(self, user, kind, ep):
        # Runs inside push or finish, on the pushing thread. An exception cannot cross the
        # C frames: it is kept and raised by the push or finish that called back.
        try:
            e = Episode._from(ep.contents)
            k = KIND_NAMES[kind] if 0 <= kind < 4 else "?"
            if k == "end":
                self._episodes.append(e)
            rec = Record(k, episode=e)
            if self._on_record is not None:
                self._in_callback = True
                try:
                    self._on_record(rec)
                finally:
                    self._in_callback = False
            else:
                self._queue.append(rec)
        except BaseException as exc:  # noqa: B902 (re-raised after the C call returns)
            if self._cb_error is None:
                self._cb_error = exc

    def _raise_callback_error(self):
        exc, self._cb_error = self._cb_error, None
        if exc is not None:
            raise exc

    def _handle(self):
        if self._h is None:
            raise Error("the analyzer is closed")
        if self._in_callback:
            raise Error("an analyzer cannot be used from its own on_record callback")
        return self._h

    def push(self, samples):
        """Analyses a block of frames (numpy int16, float32 or float64)."""
        import numpy as np  # only pushing arrays needs numpy
        a = np.asarray(samples)
        if a.ndim == 1:
            if self._channels != 1:
                raise Error(f"push: a 1-D array is one channel; this analyzer has "
                            f"{self._channels} (give shape (frames, {self._channels}))")
            frames = a.shape[0]
        elif a.ndim == 2:
            if a.shape[1] != self._channels:
                raise Error(f"push: shape {a.shape}: expected (frames, {self._channels})")
            frames = a.shape[0]
        else:
            raise Error(f"push: a {a.ndim}-D array; expected (frames,) or (frames, channels)")
        if a.dtype == np.int16:
            a = np.ascontiguousarray(a)
            fn = _push_s16
        elif a.dtype in (np.float32, np.float64):
            a = np.ascontiguousarray(a, dtype=np.float32)
            fn = _push_float
        else:
            raise Error(f"push: dtype {a.dtype}: expected int16, float32 or float64 "
                        "(float in -1..1 full scale)")
        self._push_ptr(fn, a.ctypes.data_as(ctypes.c_void_p) if frames else None, frames)

    def _push_ptr(self, fn, ptr, frames):
        """One push of frames interleaved samples at ptr through fn (_push_s16/_push_float)."""
        with self._lock:
            h = self._handle()
            if self._finished:
                raise Error("push: the analyzer has finished")
            st = fn(h, ptr, frames)
        self._raise_callback_error()
        if st != 0:
            raise Error("push: " + _status_str(st).decode())

    def poll(self):
        """The records since the last poll: a list of Record (empty with on_record)."""
        with self._lock:
            self._handle()
            out, self._queue = self._queue, []
        return out

    def level(self):
        """The latest Level (levels=1), or None before the first reading."""
        lv = _Level()
        with self._lock:
            n = _level_latest(self._handle(), ctypes.byref(lv))
        return Level._from(lv) if n == 1 else None

    def summary(self):
        """The Summary so far (final after finish)."""
        s = _Summary()
        with self._lock:
            st = _get_summary(self._handle(), ctypes.byref(s))
        if st != 0:
            raise Error("summary: " + _status_str(st).decode())
        return Summary._from(s)

    def latency_s(self):
        """Delay from input to detector decision, seconds."""
        with self._lock:
            return _latency(self._handle())

    def finish(self):
        """Ends the input (closes any open episode) and returns the Result."""
        with self._lock:
            h = self._handle()
            if self._finished:
                raise Error("finish: the analyzer has already finished")
            st = _finish(h)
            self._finished = True
        self._raise_callback_error()
        if st != 0:
            raise Error("finish: " + _status_str(st).decode())
        s = self.summary()
        self._summary = s
        rec = Record("summary", summary=s)
        if self._on_record is not None:
            self._on_record(rec)
        else:
            self._queue.append(rec)
        return Result(list(self._episodes), s)

    def close(self):
        """Frees the analyzer (idempotent)."""
        with self._lock:
            if self._h is not None:
                _destroy(self._h)
                self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# ---- files, through libsndfile ---------------------------------------------------------

class _SFInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int),
                ("channels", ctypes.c_int), ("format", ctypes.c_int),
                ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


_sf = None


def _sndfile():
    global _sf
    if _sf is None:
        lib = ctypes.CDLL(ctypes.util.find_library("sndfile") or "libsndfile.so.1")
        lib.sf_open.restype = ctypes.c_void_p
        lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_SFInfo)]
        lib.sf_readf_float.restype = ctypes.c_int64
        lib.sf_readf_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        lib.sf_close.argtypes = [ctypes.c_void_p]
        lib.sf_strerror.restype = ctypes.c_char_p
        lib.sf_strerror.argtypes = [ctypes.c_void_p]
        lib.sf_command.restype = ctypes.c_int
        lib.sf_command.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        _sf = lib
    return _sf


_SFM_READ = 0x10
_SFC_SET_NORM_FLOAT = 0x1002
_BLOCK = 4096


def analyze(source, rate=None, channels=None, **options):
    """Analyses a file (any format libsndfile reads; path str or os.PathLike) or a numpy
    array (then rate is required; channels from its shape) and returns a Result."""
    if isinstance(source, (str, bytes, os.PathLike)):
        if rate is not None or channels is not None:
            raise Error("analyze: rate and channels come from the file; give them only "
                        "with an array")
        sf = _sndfile()
        path = os.fsencode(source)
        info = _SFInfo()
        h = sf.sf_open(path, _SFM_READ, ctypes.byref(info))
        if not h:
            raise Error(f"{os.fsdecode(path)}: {sf.sf_strerror(None).decode(errors='replace')}")
        try:
            # As the crymeter tool reads: integer files as floats in [-1, 1).
            sf.sf_command(h, _SFC_SET_NORM_FLOAT, None, 1)
            buf = (ctypes.c_float * (_BLOCK * info.channels))()
            with Analyzer(info.samplerate, info.channels, **options) as a:
                while True:
                    n = sf.sf_readf_float(h, buf, _BLOCK)
                    if n <= 0:
                        break
                    a._push_ptr(_push_float, buf, n)
                    a._queue.clear()
                return a.finish()
        finally:
            sf.sf_close(h)
    import numpy as np
    arr = np.asarray(source)
    if rate is None:
        raise Error("analyze: an array needs rate= (samples per second)")
    ch = channels if channels is not None else (arr.shape[1] if arr.ndim == 2 else 1)
    with Analyzer(rate, ch, **options) as a:
        a.push(arr)
        a._queue.clear()
        return a.finish()
