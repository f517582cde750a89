"""CIFAR-10: loading it three ways, subsets, standardisation, augmentation (chapter 2).

``load_cifar10(source)`` returns ``(x_train, y_train), (x_test, y_test)`` exactly as
``keras.datasets.cifar10.load_data()`` does: uint8 images of shape (n, 32, 32, 3) and uint8
labels of shape (n, 1) in CIFAR-10's label order (``CLASSES``).

``source`` is one of

- ``"keras"``: Keras' download (cached in ``~/.keras/datasets``, checked against its hash);
- a path to a folder, or a ``.tar.gz``/``.tgz``/``.tar`` archive, in the image-folder layout
  ``[top/]{train,test}/<class>/<name>.jpg|.png`` (read in place, never unpacked to disk);
- ``"synthetic"``: a small, learnable stand-in for smoke runs, *not* CIFAR-10;
- ``"auto"``: ``$CIFAR10_PATH`` if set, else Keras' cache, else the download.

Decoding 60,000 images takes seconds, so the decoded arrays of a folder or archive are cached
(``$CIFAR10_CACHE_DIR``, default ``~/.cache/cnn-cifar10-book``) under a key computed from the
source's content, so a changed source is never served stale.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import re
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import keras
import numpy as np

from helpers.paths import atomic_write

CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
CHANCE = 1 / len(CLASSES)  # the accuracy of a uniform guess
IMAGE_SHAPE = (32, 32, 3)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# A 32x32 RGB image is 3 KiB raw; anything far larger is not a CIFAR-10 image.
MAX_IMAGE_BYTES = 64 * 1024
_CACHE_FORMAT = "v1"

_HOW_TO_GET_DATA = (
    "Get CIFAR-10 one of three ways: load_cifar10('keras') downloads it (needs internet); "
    "set CIFAR10_PATH (or pass a path) to a folder or .tar.gz laid out as "
    "{train,test}/<class>/*.jpg|png; or use source='synthetic' for a smoke run only."
)


class DatasetError(ValueError):
    """The data source is missing, unreadable or not in the expected layout."""


# The official "python version" of CIFAR-10 (cifar-10-python.tar.gz, its files under
# cifar-10-batches-py/) holds pickled batches, not image files; users pass it here because it is
# the file the dataset's page offers. Known by its batches' names, whatever their folder is called.
_PICKLED_NAMES = frozenset(
    [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
)


def _is_pickled_batch(name):
    return PurePosixPath(name).name in _PICKLED_NAMES


def _pickled_error(origin, name, kind):
    """The error for the official pickled CIFAR-10; ``kind`` is 'archive', 'folder' or 'file'."""
    what = {
        "archive": f"is the official pickled CIFAR-10 archive (cifar-10-python.tar.gz: {name!r} "
                   "is a pickled batch, not an image file)",
        "folder": f"holds the official pickled CIFAR-10 batches (an unpacked "
                  f"cifar-10-python.tar.gz: {name!r} is a pickled batch, not an image file)",
        "file": "is a batch of the official pickled CIFAR-10 archive (cifar-10-python.tar.gz), "
                "not an image file",
    }[kind]
    return DatasetError(
        f"{origin} {what}; this loader reads image files laid out as "
        "{train,test}/<class>/*.jpg|png. Use source='keras' (load_cifar10('keras'); where the path "
        "came from CIFAR10_PATH, unset it): Keras downloads exactly this archive (needs "
        "internet), checks its hash and reads it. Or pass a folder or .tar.gz of image files in "
        "that layout (the README's Data section)."
    )


def _unreadable_error(path, err):
    """The error for a file or folder the operating system will not let us read."""
    if isinstance(err, PermissionError):
        return DatasetError(
            f"{path} cannot be read: permission denied ({type(err).__name__}). Fix its "
            "permissions so that this user can read it (chmod u+r; a folder also needs u+x), "
            "or point to a readable copy."
        )
    return DatasetError(
        f"{path} cannot be read ({type(err).__name__}: {err}). Check the file, or point to "
        "another copy."
    )


# how gzip, bzip2 and xz files begin
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")


def _head(path):
    try:
        with open(path, "rb") as f:
            return f.read(512)
    except OSError:
        return b""


def _not_a_tar_error(path, err):
    """The error for a file tarfile cannot read: a damaged tar, a zip, or something else."""
    head = _head(path)
    # gzip, bzip2, xz or a tar header: a tar that is damaged, not a file of another kind
    if head.startswith(_COMPRESSED) or head[257:262] == b"ustar":
        return DatasetError(
            f"{path} is not a readable tar archive, or is truncated or corrupt "
            f"({type(err).__name__}: {err}). "
            "Download it again or point to another copy."
        )
    if head.startswith(b"PK\x03\x04") or zipfile.is_zipfile(path):
        return DatasetError(
            f"{path} is a zip archive; this loader reads .tar, .tar.gz or .tgz archives, "
            "or a folder. Extract the zip to a folder and pass that folder (laid out as "
            "{train,test}/<class>/*.jpg|png)."
        )
    if _is_pickled_batch(Path(path).name):
        return _pickled_error(path, Path(path).name, "file")
    return DatasetError(
        f"{path} is not a tar archive (nor gzip, bzip2 or xz); this loader reads .tar, .tar.gz "
        "or .tgz archives, or a folder, laid out as {train,test}/<class>/*.jpg|png. Extract "
        "another kind of archive to a folder and pass that folder; if this file should be a "
        "tar, it is damaged: download it again."
    )


def resolve_source(source="auto"):
    """Return the concrete source that ``load_cifar10(source)`` would read.

    ``"keras"``, ``"synthetic"`` or a resolved path (as a string). Raises DatasetError for an
    unknown word or a missing path.
    """
    if source == "auto":
        env = os.environ.get("CIFAR10_PATH")
        if env:
            return _existing_path(env, "CIFAR10_PATH")
        return "keras"
    if source in ("keras", "synthetic"):
        return source
    if isinstance(source, (str, os.PathLike)) and (
        isinstance(source, os.PathLike) or os.sep in str(source) or "." in str(source)
        or (str(source) and Path(source).expanduser().exists())  # a bare name: "cifar10"
    ):
        return _existing_path(source, "source")
    raise DatasetError(
        f"Unknown source {source!r}: use 'auto', 'keras', 'synthetic' or a path to a "
        "folder or .tar.gz of images."
    )


def _existing_path(path, what):
    p = Path(path).expanduser()
    if not p.exists():
        # a notebook's kernel runs in notebooks/, so a relative path may not mean what was meant
        where = "" if p.is_absolute() else f" (here: {str(p.absolute())!r})"
        raise DatasetError(f"{what} points to {str(p)!r}{where}, which does not exist. "
                           f"{_HOW_TO_GET_DATA}")
    return str(p.resolve())


def load_cifar10(source="auto"):
    """Load CIFAR-10 as ``keras.datasets.cifar10.load_data()`` does; see the module doc."""
    resolved = resolve_source(source)
    if resolved == "synthetic":
        return synthetic_cifar10()
    if resolved == "keras":
        return _load_keras()
    return _load_cached(Path(resolved))


def _load_keras():
    try:
        # Keras checks the downloaded archive against its published SHA-256.
        return keras.datasets.cifar10.load_data()
    except Exception as err:  # no network, a proxy page, a broken partial download...
        raise DatasetError(
            f"Could not download CIFAR-10 through Keras ({type(err).__name__}: {err}). "
            + _HOW_TO_GET_DATA
        ) from err


# ----------------------------------------------------------------------------- image folders


def _split_entry(name):
    """``(split, class_name)`` for a layout path ``.../{train,test}/<class>/<file>``, or None."""
    parts = PurePosixPath(name).parts
    if len(parts) >= 3 and parts[-3] in ("train", "test"):
        return parts[-3], parts[-2]
    return None


def _check_inside(name, origin):
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts:
        raise DatasetError(
            f"{origin}: entry {name!r} points outside its folder; refusing to read it "
            "(nothing was extracted). Re-pack it with paths relative to its top folder, or "
            "use another copy."
        )


_TOO_LARGE = ("far larger than a 32x32 image; refusing it. CIFAR-10 images are 32x32 RGB: "
              "resize yours to 32x32 first")
_LINK_REFUSED = ("refusing it: a link can lead outside the data. Put the files themselves "
                 "there (cp -rL copies what links point to)")


def _iter_archive(path, skipped):
    """Yield ``(entry name, bytes)`` of the image files in a tar archive, checked; the names
    of other files go to the list ``skipped``."""
    try:
        with tarfile.open(path, "r:*") as tar:
            member = None
            for member in tar:
                _check_inside(member.name, path)
                if member.issym() or member.islnk():
                    raise DatasetError(f"{path}: entry {member.name!r} is a link; refusing it. "
                                       "Re-pack the archive with the files themselves "
                                       "(tar -h stores what links point to), or use another "
                                       "copy.")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise DatasetError(f"{path}: entry {member.name!r} is not a regular file.")
                if not member.name.lower().endswith(IMAGE_SUFFIXES):
                    skipped.append(member.name)  # a README, a stray .DS_Store: not data
                    continue
                if member.size > MAX_IMAGE_BYTES:
                    raise DatasetError(
                        f"{path}: entry {member.name!r} is {member.size:,} bytes, {_TOO_LARGE}."
                    )
                yield member.name, tar.extractfile(member).read()
            # tarfile reads a plain tar cut between two members as complete; its end marker
            # (zero blocks) is then missing (a compressed one fails its own check instead)
            if (not _head(path).startswith(_COMPRESSED)
                    and os.path.getsize(path) < tar.offset + tarfile.BLOCKSIZE):
                after = f" right after entry {member.name!r}" if member else ""
                raise DatasetError(
                    f"{path} ends{after} without a tar archive's end marker: it was cut short "
                    "(truncated). Download it again or point to another copy."
                )
    except DatasetError:
        raise
    except PermissionError as err:
        raise _unreadable_error(path, err) from err
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise _not_a_tar_error(path, err) from err


def _iter_folder(root, skipped):
    """Yield ``(relative name, bytes)`` of the image files under a folder, checked; the names
    of other files go to the list ``skipped``."""

    def refuse(err):  # os.walk skips a folder it cannot list unless told otherwise
        raise _unreadable_error(err.filename or root, err) from err

    for dirpath, dirnames, filenames in os.walk(root, onerror=refuse):
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath, name)
            if full.is_symlink():
                raise DatasetError(f"{full} is a symbolic link; {_LINK_REFUSED}.")
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            if not name.lower().endswith(IMAGE_SUFFIXES):
                skipped.append(rel)
                continue
            try:
                size = full.stat().st_size
                if size > MAX_IMAGE_BYTES:
                    raise DatasetError(
                        f"{full} is {size:,} bytes, {_TOO_LARGE}, or remove it."
                    )
                blob = full.read_bytes()
            except OSError as err:
                raise _unreadable_error(full, err) from err
            yield rel, blob


def _repack(origin):
    # The loader never edits the source: the user fixes the file, and re-packs an archive.
    return "" if Path(origin).is_dir() else ", then re-pack the archive"


def _decode(name, blob, origin):
    from PIL import Image  # Pillow comes with matplotlib and Keras' image utilities

    try:
        with Image.open(io.BytesIO(blob)) as img:
            if img.size != IMAGE_SHAPE[:2]:
                raise DatasetError(
                    f"{origin}: image {name!r} is {img.size[0]}x{img.size[1]}, expected 32x32. "
                    f"CIFAR-10 images are 32x32 RGB: resize it to 32x32 first, or remove or "
                    f"replace that file{_repack(origin)}."
                )
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except DatasetError:
        raise
    except Exception as err:  # Pillow raises many types for broken files
        # Pillow's text names the in-memory buffer ("<_io.BytesIO object at 0x...>"): noise here
        reason = re.sub(r" ?<_io\.BytesIO object at 0x[0-9a-f]+>", "", str(err))
        raise DatasetError(
            f"{origin}: image {name!r} cannot be decoded ({type(err).__name__}: {reason}). "
            f"Replace that file with a good copy or remove it{_repack(origin)}; images must be "
            "32x32 RGB .jpg or .png files, as in CIFAR-10."
        ) from err


def read_image_folder(path):
    """Decode a folder or tar archive in the image-folder layout (no cache); see load_cifar10."""
    path = Path(path)
    skipped = []  # files of other types: named if a class comes up missing
    entries = _iter_folder(path, skipped) if path.is_dir() else _iter_archive(path, skipped)
    found = {"train": [], "test": []}
    outside = []  # image entries not at {train,test}/<class>/<file>: named if a class is missing
    tops = {}  # the folders above train/ and test/: two would mean two copies, merged
    with contextlib.closing(entries):  # an error leaves no archive open
        for name, blob in entries:
            split_class = _split_entry(name)
            if split_class is None:
                outside.append(name)
                continue
            top = "/".join(PurePosixPath(name).parts[:-3]) or "."
            tops.setdefault(top, name)
            if len(tops) > 1:
                raise DatasetError(
                    f"{path} holds the train/ and test/ layout more than once: "
                    f"{' and '.join(repr(t) for t in tops)} (e.g. {' and '.join(tops.values())}); "
                    "reading both would merge two copies. Remove or move one of them (or, for a "
                    "folder, point CIFAR10_PATH at the folder of one copy)."
                )
            _add(found, path, name, blob, *split_class)
    if not (found["train"] or found["test"]):  # an image folder may carry the batches beside it
        pickled = next((name for name in skipped if _is_pickled_batch(name)), None)
        if pickled:
            raise _pickled_error(path, pickled, "folder" if path.is_dir() else "archive")
    return tuple(_stack(found[split], split, path, outside, skipped)
                 for split in ("train", "test"))


def _add(found, path, name, blob, split, class_name):
    """Decode one image of the layout into ``found[split]``."""
    if class_name not in CLASSES:
        raise DatasetError(
            f"{path}: entry {name!r} is in an unknown class folder {class_name!r}; "
            f"expected the ten CIFAR-10 classes: {', '.join(CLASSES)}. {_CIFAR_ONLY}."
        )
    found[split].append((CLASSES.index(class_name), name, _decode(name, blob, path)))


_CIFAR_ONLY = ("This loader reads CIFAR-10 only; for images of your own classes use "
               "keras.utils.image_dataset_from_directory, and models.build(name, "
               "num_classes=..., input_shape=...)")


def _stack(items, split, origin, outside=(), skipped=()):
    present = {label for label, _, _ in items}
    if len(present) < len(CLASSES):
        missing = [CLASSES[i] for i in range(len(CLASSES)) if i not in present]
        of_this_split = [n for n in skipped if (_split_entry(n) or ("",))[0] == split]
        if not present and of_this_split:
            what = (f"has class folders, but none holds a {', '.join(IMAGE_SUFFIXES)} file; they "
                    f"hold files such as {of_this_split[0]!r}. Convert the images to PNG or JPEG")
        elif not present:
            # where train/ would sit: the folder two above each image file
            tops = sorted({PurePosixPath(n).parts[-3] for n in outside
                           if len(PurePosixPath(n).parts) >= 3})
            found = f" (found instead: {', '.join(f'{t}/' for t in tops)})" if tops else ""
            what = (f"has no {split}/ folder of class folders{found}. Point to the folder "
                    "that holds train/ and test/, each with the ten class folders")
        else:
            what = (f"has images for {len(present)} of the 10 classes (missing: "
                    f"{', '.join(missing)}). Expected {split}/<class>/*.jpg|png for each class. "
                    f"{_CIFAR_ONLY}")
        elsewhere = (f" {len(outside):,} image files lie outside that layout and were not read, "
                     f"for example {outside[0]!r} (the folder names are lower case, and the "
                     "images sit directly in their class folder)." if outside else "")
        other = (f" {len(skipped):,} files of other types were not read (only "
                 f"{', '.join(IMAGE_SUFFIXES)} are), for example {skipped[0]!r}."
                 if skipped else "")
        raise DatasetError(f"{origin}: the {split!r} split {what}.{elsewhere}{other}")
    items.sort(key=lambda item: (item[0], item[1]))
    x = np.stack([image for _, _, image in items])
    y = np.array([[label] for label, _, _ in items], dtype=np.uint8)
    return x, y


def _source_key(path):
    """A hash of the source's content (archive bytes, or the folder's names, sizes, times)."""
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    if path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(filenames):
                stat = Path(dirpath, name).lstat()  # a dangling link is refused later
                rel = Path(dirpath, name).relative_to(path).as_posix()
                digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    else:
        digest.update(_file_sha256(path).encode())
    return digest.hexdigest()


def _file_sha256(path):
    """The SHA-256 of a file's bytes, read once per version of the file: a first load asks for
    it twice (the cache's name, the record's fingerprint), and an archive is tens of MB (the
    JPEG one) to ~170 MB (Keras' download)."""
    return _hash_file(path, *_version(path))


def _version(path):
    """What changes when a file is rewritten or replaced (the key of the caches here)."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


@functools.lru_cache(maxsize=8)
def _hash_file(path, *version):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:  # the first read of an archive is here, before tarfile's
        raise _unreadable_error(path, err) from err
    return digest.hexdigest()


def fingerprint(source):
    """Where the data came from, for a results record: the archive's SHA-256, or a note.

    A ``.tar.gz`` (or any file) gets the SHA-256 of its bytes, which a reader can compare with
    the one its README gives; a folder gets a hash of its names, sizes and times (not its
    bytes); the Keras download is checked by Keras against its published SHA-256.
    """
    if source in ("keras", "synthetic"):
        return {"kind": source}
    path = Path(source).resolve()
    if path.is_dir():  # listed afresh each time: a file replaced inside leaves the top's time
        return {"kind": "folder", "listing_sha256": _source_key(path)}
    return {"kind": "file", "sha256": _file_sha256(path)}  # hashed once per file version


def cache_dir():
    return Path(os.environ.get("CIFAR10_CACHE_DIR", "~/.cache/cnn-cifar10-book")).expanduser()


def cache_file(source):
    """Where ``load_cifar10(source)`` keeps the decoded arrays of a folder or archive (whether
    or not they are there yet); ``None`` for the Keras download and synthetic data."""
    resolved = resolve_source(source)
    if resolved in ("keras", "synthetic"):
        return None
    return cache_dir() / f"cifar10-{_source_key(Path(resolved))[:24]}.npz"


def _load_cached(path):
    target = cache_file(path)
    if target.exists():
        try:
            with np.load(target) as z:
                return (z["x_train"], z["y_train"]), (z["x_test"], z["y_test"])
        except Exception:
            pass  # a damaged cache file is rebuilt below
    (x_train, y_train), (x_test, y_test) = read_image_folder(path)
    try:
        with atomic_write(target, "wb") as f:
            np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    except OSError as err:  # no cache then; the next load decodes again
        warnings.warn(f"Could not cache the decoded images at {target} ({err}); set "
                      "CIFAR10_CACHE_DIR to a writable folder to skip decoding next time.",
                      stacklevel=3)
    return (x_train, y_train), (x_test, y_test)


# ----------------------------------------------------------------------------- synthetic


def synthetic_cifar10(train_per_class=100, test_per_class=20, seed=0):
    """A small *synthetic* stand-in for CIFAR-10, for smoke runs only (it is not CIFAR-10).

    Each class is a fixed random colour pattern plus noise, so a network can learn it in a few
    steps; shapes and dtypes are CIFAR-10's.
    """
    print("Using SYNTHETIC stand-in data (not CIFAR-10): for smoke runs only.")
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(40, 215, size=(len(CLASSES), 4, 4, 3))
    prototypes = coarse.repeat(8, axis=1).repeat(8, axis=2)

    def make(per_class):
        y = np.repeat(np.arange(len(CLASSES)), per_class)
        rng.shuffle(y)
        x = prototypes[y] + rng.normal(0, 40, size=(len(y), *IMAGE_SHAPE))
        return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.uint8)[:, None]

    return make(train_per_class), make(test_per_class)


# ----------------------------------------------------------------------------- preparing


def stratified_indices(y, per_class, seed=0):
    """Indices of ``per_class`` examples of every class, drawn at random, in sorted order."""
    y = np.asarray(y).reshape(-1)
    rng = np.random.default_rng(seed)
    picks = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if per_class > len(members):
            raise ValueError(
                f"Asked for {per_class} examples of class {label}, but there are {len(members)}."
            )
        picks.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(picks))


def channel_stats(x_train):
    """Per-channel mean and standard deviation of uint8 images, on the 0..1 scale."""
    x = np.asarray(x_train, dtype=np.float32) / 255.0
    # Accumulate in float64: a float32 sum over 50,000 images (51 M values a channel) stops
    # growing once it reaches 2**24, which gave a mean of 0.33 instead of 0.49.
    mean = x.mean(axis=(0, 1, 2), dtype=np.float64)
    std = x.std(axis=(0, 1, 2), dtype=np.float64)
    return mean.astype(np.float32), std.astype(np.float32)


def standardize(x, mean, std):
    """``(x / 255 - mean) / std`` per channel, as float32. Use the training set's statistics."""
    return ((np.asarray(x, dtype=np.float32) / 255.0 - mean) / std).astype(np.float32)
