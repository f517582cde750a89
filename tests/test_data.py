"""Loading CIFAR-10 from folders, archives, Keras and the synthetic stand-in (helpers.data)."""

import errno
import io
import os
import pickle
import re
import tarfile
import tempfile
import urllib.error
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TinyDataset, image_bytes, random_pixels
from helpers import data


def _tar_member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _check_arrays(loaded, dataset, exact):
    (x_train, y_train), (x_test, y_test) = loaded
    for (x, y), split, n in ((x_train, y_train), "train", 20), ((x_test, y_test), "test", 10):
        assert x.shape == (n, 32, 32, 3) and x.dtype == np.uint8
        assert y.shape == (n, 1) and y.dtype == np.uint8
        want_x, want_y = dataset.expected(split)
        np.testing.assert_array_equal(y, want_y)
        if exact:
            np.testing.assert_array_equal(x, want_x)
        else:  # JPEG is lossy: each decoded image is closest to its own source image
            dist = np.abs(
                x[:, None].astype(np.int16) - want_x[None].astype(np.int16)
            ).mean(axis=(2, 3, 4))
            np.testing.assert_array_equal(dist.argmin(axis=1), np.arange(n))
            assert dist.diagonal().max() < 25


# ----------------------------------------------------------------------------- good inputs


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz", "tiny.tgz", "tiny.tar"])
def test_loads_image_folder_layout(tiny, fmt, container):
    dataset = tiny(fmt=fmt)
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    loaded = data.load_cifar10(str(path))
    _check_arrays(loaded, dataset, exact=fmt == "png")
    # labels are the class index of the images' folder, in CIFAR-10's order
    (_, y_train), (_, y_test) = loaded
    assert np.bincount(y_train.ravel()).tolist() == [2] * 10
    assert np.bincount(y_test.ravel()).tolist() == [1] * 10


def test_loads_without_top_folder_and_ignores_other_files(tiny):
    dataset = tiny(top=".")
    dataset.entries["README.md"] = b"not data"
    dataset.entries["./train/.DS_Store"] = b"\0\1"
    loaded = data.load_cifar10(dataset.write_tar("flat.tar.gz"))
    _check_arrays(loaded, dataset, exact=True)


def test_accepts_pathlike_and_read_image_folder_matches(tiny):
    dataset = tiny()
    path = dataset.write_tar()
    assert isinstance(path, os.PathLike)
    loaded = data.load_cifar10(path)
    direct = data.read_image_folder(path)
    for (a, b), (c, d) in zip(loaded, direct):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_auto_reads_cifar10_path(tiny, monkeypatch):
    dataset = tiny()
    monkeypatch.setenv("CIFAR10_PATH", str(dataset.write_tar()))
    assert data.resolve_source("auto") == str(dataset.root.resolve() / "tiny.tar.gz")
    _check_arrays(data.load_cifar10(), dataset, exact=True)


def test_auto_without_env_means_keras(monkeypatch):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    assert data.resolve_source("auto") == "keras"


# ----------------------------------------------------------------------------- the cache


def test_a_cache_that_cannot_be_written_warns_and_the_load_goes_on(tiny, tmp_path, monkeypatch):
    blocked = tmp_path / "cache-parent"  # a file: the cache folder cannot be made inside it
    blocked.write_text("")
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(blocked / "cache"))
    with pytest.warns(UserWarning, match="CIFAR10_CACHE_DIR to a writable folder"):
        (x, y), _ = data.load_cifar10(tiny().write_tar())
    assert len(x) == len(y) == 20
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["cache-parent"]


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
def test_second_load_hits_the_cache(tiny, monkeypatch, cifar10_cache, container):
    dataset = tiny()
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    first = data.load_cifar10(str(path))
    cached = [p.name for p in cifar10_cache.iterdir()]
    assert len(cached) == 1 and cached[0].endswith(".npz")  # no temporary files left

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(data, "read_image_folder", no_decoding)
    second = data.load_cifar10(str(path))
    for (a, b), (c, d) in zip(first, second):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
        assert c.dtype == np.uint8 and d.dtype == np.uint8


def test_damaged_cache_file_is_rebuilt(tiny, cifar10_cache):
    dataset = tiny()
    path = dataset.write_tar()
    data.load_cifar10(path)
    (cache_file,) = cifar10_cache.iterdir()
    cache_file.write_bytes(b"garbage")
    _check_arrays(data.load_cifar10(path), dataset, exact=True)


def test_changed_archive_invalidates_the_cache(tiny, cifar10_cache):
    dataset = tiny()
    path = dataset.write_tar()
    (x1, y1), _ = data.load_cifar10(path)

    # replace one image: same names, new pixels
    name = f"{dataset.top}/train/cat/0000.png"
    dataset.pixels[name] = random_pixels(np.random.default_rng(99))
    dataset.entries[name] = image_bytes(dataset.pixels[name])
    dataset.write_tar()
    (x2, y2), _ = data.load_cifar10(path)
    np.testing.assert_array_equal(y2, y1)
    np.testing.assert_array_equal(x2, dataset.expected("train")[0])
    assert not np.array_equal(x2, x1)

    # add one image
    extra = f"{dataset.top}/train/ship/0002.png"
    dataset.pixels[extra] = random_pixels(np.random.default_rng(7))
    dataset.entries[extra] = image_bytes(dataset.pixels[extra])
    dataset.write_tar()
    (x3, y3), _ = data.load_cifar10(path)
    assert x3.shape == (21, 32, 32, 3)
    assert np.bincount(y3.ravel())[data.CLASSES.index("ship")] == 3
    np.testing.assert_array_equal(x3, dataset.expected("train")[0])
    assert len(list(cifar10_cache.iterdir())) == 3  # one entry per distinct content


def test_changed_folder_invalidates_the_cache(tiny):
    dataset = tiny()
    folder = dataset.write_folder()
    (x1, _), _ = data.load_cifar10(folder)
    name = f"{dataset.top}/train/dog/0001.png"
    dataset.pixels[name] = random_pixels(np.random.default_rng(5))
    (folder / name).write_bytes(image_bytes(dataset.pixels[name]))
    (x2, _), _ = data.load_cifar10(folder)
    assert not np.array_equal(x1, x2)
    np.testing.assert_array_equal(x2, dataset.expected("train")[0])


# ----------------------------------------------------------------------------- bad inputs


def test_missing_path(tmp_path):
    missing = tmp_path / "nowhere" / "cifar.tar.gz"
    with pytest.raises(data.DatasetError, match=re.escape(str(missing))):
        data.load_cifar10(str(missing))


def test_missing_path_via_env(tmp_path, monkeypatch):
    missing = tmp_path / "gone.tar.gz"
    monkeypatch.setenv("CIFAR10_PATH", str(missing))
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10(source="auto")
    assert "CIFAR10_PATH" in str(info.value)
    assert str(missing) in str(info.value)


def test_file_that_is_not_an_archive(tmp_path):
    path = tmp_path / "cifar.tar.gz"
    path.write_text("this is not an archive\n" * 10)
    with pytest.raises(data.DatasetError, match=re.escape(str(path))) as info:
        data.load_cifar10(path)
    message = str(info.value)
    assert "is not a tar archive" in message and "pass that folder" in message
    assert "truncated or corrupt" not in message


def test_truncated_archive(tiny):
    path = tiny().write_tar()
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(data.DatasetError, match="truncated|corrupt") as info:
        data.load_cifar10(path)
    assert str(path) in str(info.value)
    assert "Download it again" in str(info.value)


def test_plain_tar_cut_between_two_members_is_called_truncated(tiny):
    # tarfile itself reads such a tar as complete, with the later classes simply absent
    path = tiny().write_tar("tiny.tar")
    with tarfile.open(path) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
    cut = members[len(members) // 2]
    end = cut.offset_data + -(-cut.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
    path.write_bytes(path.read_bytes()[:end])
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10(path)
    message = str(info.value)
    assert f"ends right after entry {cut.name!r}" in message and "truncated" in message
    assert "of the 10 classes" not in message and "Download it again" in message


@pytest.mark.parametrize("name", ["tiny.zip", "misnamed.tar.gz"])
def test_zip_says_to_extract_it_to_a_folder(tiny, cifar10_cache, snapshot, name):
    dataset = tiny()
    path = dataset.root / name
    with zipfile.ZipFile(path, "w") as z:
        for entry, blob in dataset.entries.items():
            z.writestr(entry, blob)
    before = snapshot(dataset.root)
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10(path)
    message = str(info.value)
    assert str(path) in message and "zip" in message
    assert ".tar.gz" in message and "Extract the zip to a folder and pass that folder" in message
    assert "truncated" not in message and "Download it again" not in message
    assert snapshot(dataset.root) == before  # nothing extracted, nothing removed
    assert list(cifar10_cache.iterdir()) == []


def test_fewer_than_ten_classes(tiny):
    dataset = tiny()
    for name in list(dataset.entries):
        if name.split("/")[-2] in ("cat", "dog"):
            del dataset.entries[name]
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10(dataset.write_tar())
    missing = re.search(r"missing: ([a-z, ]+)", str(info.value))
    assert missing, str(info.value)
    assert missing.group(1).split(", ") == ["cat", "dog"]
    assert "8 of the 10" in str(info.value)
    assert "outside that layout" not in str(info.value)  # nothing was left unread
    assert "reads CIFAR-10 only" in str(info.value)  # and what to use for classes of one's own


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
def test_files_of_another_type_are_named_when_a_class_comes_up_empty(tiny, container):
    dataset = tiny()  # the cats saved as .webp, which the loader does not read
    dataset.entries = {(k[:-4] + ".webp" if "/cat/" in k else k): v
                       for k, v in dataset.entries.items()}
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    with pytest.raises(data.DatasetError, match="missing: cat") as info:
        data.load_cifar10(path)
    assert "3 files of other types were not read (only .jpg, .jpeg, .png are)" in str(info.value)
    assert "cat/0000.webp" in str(info.value)


def test_a_missing_split_folder_is_named_with_what_stands_in_its_place(tiny):
    dataset = tiny()  # "val/" where the layout has "test/"
    dataset.entries = {k.replace("/test/", "/val/"): v for k, v in dataset.entries.items()}
    with pytest.raises(data.DatasetError, match=r"'test' split has no test/ folder of class "
                       r"folders \(found instead: val/\)"):
        data.load_cifar10(dataset.write_folder())


def test_a_relative_path_that_does_not_exist_is_shown_from_the_working_folder(tmp_path,
                                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(data.DatasetError, match="does not exist") as info:
        data.resolve_source("mydata/cifar")
    assert f"(here: {str(tmp_path / 'mydata' / 'cifar')!r})" in str(info.value)


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
def test_images_outside_the_layout_are_named_when_a_class_is_missing(tiny, container):
    dataset = tiny()  # "Train/" for "train/": a layout the loader does not read
    dataset.entries = {k.replace("/train/", "/Train/"): v for k, v in dataset.entries.items()}
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    with pytest.raises(data.DatasetError, match="'train' split has no train/ folder of class "
                       r"folders \(found instead: Train/\)") as info:
        data.load_cifar10(path)
    message = str(info.value)
    assert "20 image files lie outside that layout" in message
    assert re.search(r"for example '[^']*/Train/[a-z]+/[^']+'", message), message


def test_one_split_missing(tiny):
    dataset = tiny()
    dataset.entries = {k: v for k, v in dataset.entries.items() if "/test/" not in k}
    with pytest.raises(data.DatasetError, match="'test' split"):
        data.load_cifar10(dataset.write_folder())


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
def test_unknown_class_folder(tiny, container):
    dataset = tiny()
    dataset.entries[f"{dataset.top}/train/cats/0000.png"] = dataset.entries[
        f"{dataset.top}/train/cat/0000.png"
    ]
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10(path)
    assert "'cats'" in str(info.value)
    assert "train/cats/0000.png" in str(info.value)


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
@pytest.mark.parametrize("size", [(31, 32), (64, 64)])
def test_image_not_32x32(tiny, container, size):
    dataset = tiny()
    entry = f"{dataset.top}/test/frog/0000.png"
    dataset.entries[entry] = image_bytes(random_pixels(np.random.default_rng(1), size))
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    with pytest.raises(data.DatasetError, match="expected 32x32") as info:
        data.load_cifar10(path)
    message = str(info.value)
    assert "test/frog/0000.png" in message
    # what to do: resize it, or remove or replace it (and re-pack an archive)
    assert "32x32 RGB" in message and "resize it to 32x32" in message
    assert "remove or replace that file" in message
    assert ("re-pack the archive" in message) == (container != "folder")


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
def test_image_that_cannot_be_decoded(tiny, container):
    dataset = tiny()
    entry = f"{dataset.top}/train/bird/0001.png"
    dataset.entries[entry] = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    with pytest.raises(data.DatasetError, match="cannot be decoded") as info:
        data.load_cifar10(path)
    message = str(info.value)
    assert "train/bird/0001.png" in message
    assert "Replace that file with a good copy or remove it" in message
    assert "32x32 RGB .jpg or .png" in message
    assert "BytesIO" not in message  # Pillow's name for its buffer says nothing to a reader
    assert ("re-pack the archive" in message) == (container != "folder")


# The official "python version" of CIFAR-10: pickled batches under cifar-10-batches-py/.
_PICKLED = {
    **{f"cifar-10-batches-py/data_batch_{i}": {b"data": b"\0" * 30, b"labels": [i]}
       for i in range(1, 6)},
    "cifar-10-batches-py/test_batch": {b"data": b"\0" * 30, b"labels": [0]},
    "cifar-10-batches-py/batches.meta": {b"label_names": [c.encode() for c in data.CLASSES]},
}


def _official_archive(tmp_path, kind):
    """A few fake entries laid out as cifar-10-python.tar.gz is (not the real data)."""
    blobs = {name: pickle.dumps(value) for name, value in _PICKLED.items()}
    blobs["cifar-10-batches-py/readme.html"] = b"<html></html>"
    if kind == "archive":
        path = tmp_path / "cifar-10-python.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            tar.addfile(_tar_member("cifar-10-batches-py", tarfile.DIRTYPE))
            for name, blob in blobs.items():
                info = _tar_member(name)
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
        return path
    for name, blob in blobs.items():  # the archive unpacked
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(blob)
    if kind == "folder":
        return tmp_path / "cifar-10-batches-py"
    return tmp_path / "cifar-10-batches-py" / "data_batch_1"  # one batch file


@pytest.mark.parametrize("kind", ["archive", "folder", "file"])
def test_official_pickled_cifar10_says_to_use_the_keras_download(
    tmp_path, cifar10_cache, snapshot, kind
):
    path = _official_archive(tmp_path, kind)
    before = snapshot(tmp_path)
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10(path)
    message = str(info.value)
    assert str(path) in message
    assert "official pickled CIFAR-10" in message and "cifar-10-python.tar.gz" in message
    assert "source='keras'" in message and "{train,test}/<class>/*.jpg|png" in message
    assert "0 of the 10 classes" not in message and "truncated" not in message
    if kind != "file":
        batch = r"'(cifar-10-batches-py/)?(data_batch_\d|test_batch|batches\.meta)'"
        assert re.search(batch, message), message  # the entry that gave it away
    assert snapshot(tmp_path) == before  # nothing unpacked, nothing removed
    assert list(cifar10_cache.iterdir()) == []


def test_image_archive_with_the_pickled_batches_beside_it_still_loads(tiny):
    dataset = tiny()
    dataset.entries["cifar-10-batches-py/data_batch_1"] = pickle.dumps({b"labels": [0]})
    _check_arrays(data.load_cifar10(dataset.write_tar()), dataset, exact=True)


@pytest.fixture
def unreadable(monkeypatch):
    """``unreadable(path)`` takes away the read permission of a file or folder. Root reads it
    anyway, so opening or listing it is also refused here, as the system would for a user."""
    denied = {}

    def refuse(path):
        key = os.path.abspath(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else None
        if key in denied:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    real_open, real_tar_open, real_scandir = io.open, tarfile.bltn_open, os.scandir

    def guarded(opener):
        def call(file, *args, **kwargs):
            refuse(file)
            return opener(file, *args, **kwargs)
        return call

    monkeypatch.setattr("builtins.open", guarded(real_open))
    monkeypatch.setattr(io, "open", guarded(real_open))  # pathlib's read_bytes
    monkeypatch.setattr(tarfile, "bltn_open", guarded(real_tar_open))
    monkeypatch.setattr(os, "scandir", lambda path=".": (refuse(path), real_scandir(path))[1])

    def deny(path):
        denied[os.path.abspath(path)] = path.stat().st_mode
        path.chmod(0)

    yield deny
    for path, mode in denied.items():
        os.chmod(path, mode)


def test_unreadable_image_in_folder(tiny, unreadable):
    dataset = tiny()
    folder = dataset.write_folder()
    bad = folder / dataset.top / "train" / "cat" / "0001.png"
    unreadable(bad)
    with pytest.raises(data.DatasetError, match="permission") as info:
        data.load_cifar10(folder)
    assert str(bad) in str(info.value) and "Fix its permissions" in str(info.value)
    assert isinstance(info.value.__cause__, PermissionError)


def test_unreadable_class_folder(tiny, unreadable):
    dataset = tiny()
    folder = dataset.write_folder()
    bad = folder / dataset.top / "test" / "dog"
    unreadable(bad)
    with pytest.raises(data.DatasetError, match="permission") as info:
        data.load_cifar10(folder)
    assert str(bad) in str(info.value) and "Fix its permissions" in str(info.value)
    assert "missing" not in str(info.value)  # not "the 'test' split has 9 of the 10 classes"


@pytest.mark.parametrize("read", [data.load_cifar10, data.read_image_folder, data.fingerprint])
def test_unreadable_archive(tiny, unreadable, read):
    path = tiny().write_tar()
    unreadable(path)
    with pytest.raises(data.DatasetError, match="permission") as info:
        read(path)
    assert str(path) in str(info.value) and "Fix its permissions" in str(info.value)
    assert "Download it again" not in str(info.value)
    assert path.exists()


@pytest.mark.parametrize("kind", ["dotdot", "absolute"])
def test_entry_outside_the_folder_is_refused(tiny, tmp_path, cifar10_cache, snapshot, kind):
    dataset = tiny()
    target_dir = tmp_path / "escape"
    if kind == "dotdot":
        bad = "../../escape/train/cat/evil.png"
    else:
        bad = f"{target_dir}/train/cat/evil.png"
    path = dataset.write_tar(extra=[(_tar_member(bad), image_bytes(random_pixels(
        np.random.default_rng(3))))])
    before_tmp, before_cache = snapshot(tmp_path), snapshot(cifar10_cache)
    with pytest.raises(data.DatasetError, match="outside") as info:
        data.load_cifar10(path)
    assert bad in str(info.value)
    assert snapshot(tmp_path) == before_tmp
    assert snapshot(cifar10_cache) == before_cache == {}
    assert not (Path.cwd() / bad).exists()  # nor next to the working directory
    assert not target_dir.exists()
    assert not (dataset.root.parent.parent / "escape").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_link_member_in_tar_is_refused(tiny, cifar10_cache, kind):
    dataset = tiny()
    bad = f"{dataset.top}/train/cat/link.png"
    path = dataset.write_tar(
        extra=[(_tar_member(bad, kind, linkname=f"{dataset.top}/train/cat/0000.png"), None)]
    )
    with pytest.raises(data.DatasetError, match="is a link") as info:
        data.load_cifar10(path)
    assert bad in str(info.value)
    assert list(cifar10_cache.iterdir()) == []


def test_symlink_in_folder_is_refused(tiny, tmp_path, cifar10_cache):
    dataset = tiny()
    folder = dataset.write_folder()
    outside = tmp_path / "outside.png"
    outside.write_bytes(image_bytes(random_pixels(np.random.default_rng(4))))
    link = folder / dataset.top / "train" / "cat" / "link.png"
    link.symlink_to(outside)
    with pytest.raises(data.DatasetError, match="symbolic link") as info:
        data.load_cifar10(folder)
    assert "link.png" in str(info.value) and "cp -rL" in str(info.value)  # why, and what to do
    assert list(cifar10_cache.iterdir()) == []


def test_dangling_symlink_in_folder_is_refused(tiny, tmp_path):
    dataset = tiny()
    folder = dataset.write_folder()
    (folder / dataset.top / "train" / "cat" / "gone.png").symlink_to(tmp_path / "no-such-file")
    with pytest.raises(data.DatasetError, match="symbolic link"):
        data.load_cifar10(folder)


def test_symlinked_directory_in_folder_is_refused(tiny, tmp_path):
    dataset = tiny()
    folder = dataset.write_folder()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / dataset.top / "train" / "cat" / "more").symlink_to(elsewhere)
    with pytest.raises(data.DatasetError, match="symbolic link"):
        data.load_cifar10(folder)


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
def test_member_larger_than_max_image_bytes(tiny, container):
    dataset = tiny()
    entry = f"{dataset.top}/train/horse/huge.png"
    dataset.entries[entry] = b"\x89PNG" + b"\0" * data.MAX_IMAGE_BYTES
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    with pytest.raises(data.DatasetError, match="larger than a 32x32 image") as info:
        data.load_cifar10(path)
    assert "huge.png" in str(info.value) and "resize yours to 32x32" in str(info.value)


def test_special_file_member_is_refused(tiny):
    dataset = tiny()
    bad = f"{dataset.top}/train/cat/fifo.png"
    path = dataset.write_tar(extra=[(_tar_member(bad, tarfile.FIFOTYPE), None)])
    with pytest.raises(data.DatasetError, match="not a regular file"):
        data.load_cifar10(path)


@pytest.mark.parametrize("word", ["cifar", "CIFAR10", "", "Keras"])
def test_unknown_source_word(word):
    with pytest.raises(data.DatasetError, match="Unknown source"):
        data.load_cifar10(word)


def test_unknown_source_type():
    with pytest.raises(data.DatasetError):
        data.load_cifar10(42)


@pytest.mark.parametrize(
    "error", [urllib.error.URLError("no network"), Exception("no network"), OSError("proxy")]
)
def test_keras_download_offline_says_what_to_do(monkeypatch, error):
    def offline():
        raise error

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(data.DatasetError) as info:
        data.load_cifar10("keras")
    message = str(info.value)
    assert "CIFAR10_PATH" in message and "synthetic" in message
    assert type(error).__name__ in message
    assert info.value.__cause__ is error


def test_auto_never_falls_back_to_synthetic(monkeypatch, capsys):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)

    def offline():
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(data.DatasetError, match="CIFAR10_PATH"):
        data.load_cifar10("auto")
    assert "SYNTHETIC" not in capsys.readouterr().out


# ----------------------------------------------------------------------------- synthetic


def test_synthetic_shapes_and_label(capsys):
    (x, y), (xt, yt) = data.load_cifar10("synthetic")
    assert "SYNTHETIC" in capsys.readouterr().out
    assert x.shape == (1000, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (1000, 1) and y.dtype == np.uint8
    assert xt.shape == (200, 32, 32, 3) and xt.dtype == np.uint8
    assert yt.shape == (200, 1) and yt.dtype == np.uint8
    assert np.bincount(y.ravel()).tolist() == [100] * 10
    assert np.bincount(yt.ravel()).tolist() == [20] * 10
    # learnable: class means differ clearly
    means = np.stack([x[y.ravel() == c].mean(axis=0) for c in range(10)])
    assert np.abs(means[0] - means[1]).mean() > 10


def test_synthetic_is_deterministic_and_sized(capsys):
    a = data.synthetic_cifar10(train_per_class=3, test_per_class=2, seed=1)
    b = data.synthetic_cifar10(train_per_class=3, test_per_class=2, seed=1)
    assert a[0][0].shape == (30, 32, 32, 3) and a[1][0].shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert capsys.readouterr().out.count("SYNTHETIC") == 2


# ----------------------------------------------------------------------------- preparing


def test_stratified_indices():
    y = np.repeat(np.arange(10), np.arange(5, 15))[:, None]  # 5..14 examples per class
    idx = data.stratified_indices(y, per_class=4, seed=3)
    assert np.bincount(y[idx].ravel()).tolist() == [4] * 10
    assert np.all(np.diff(idx) > 0)  # sorted, no repeats
    np.testing.assert_array_equal(idx, data.stratified_indices(y, per_class=4, seed=3))
    assert not np.array_equal(idx, data.stratified_indices(y, per_class=4, seed=4))
    assert len(data.stratified_indices(y, per_class=5)) == 50


def test_stratified_indices_too_many():
    y = np.repeat(np.arange(10), 5)
    with pytest.raises(ValueError, match="Asked for 6 examples of class 0, but there are 5"):
        data.stratified_indices(y, per_class=6)


def test_channel_stats_and_standardize():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(64, 32, 32, 3)).astype(np.uint8)
    x[..., 2] //= 4  # channels with different statistics
    mean, std = data.channel_stats(x)
    assert mean.shape == (3,) and std.shape == (3,)
    np.testing.assert_allclose(mean, x.reshape(-1, 3).mean(axis=0) / 255, rtol=1e-5)
    z = data.standardize(x, mean, std)
    assert z.dtype == np.float32 and z.shape == x.shape
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2)), 1.0, rtol=1e-4)


# ----------------------------------------------------------------------------- fuzzing


def _small_archive(mode):
    with tempfile.TemporaryDirectory() as folder:
        dataset = TinyDataset(folder, train_per_class=1, test_per_class=1, simple=True)
        return dataset.write_tar("fuzz.tar" + (".gz" if mode == "gz" else "")).read_bytes()


_ARCHIVES = {"gz": _small_archive("gz"), "plain": _small_archive("plain")}


def _corruptions(size):
    truncate = st.tuples(st.just("truncate"), st.integers(0, size - 1))
    flips = st.tuples(
        st.just("flip"),
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 255)), min_size=1, max_size=8),
    )
    return st.one_of(truncate, flips)


def _corrupt(blob, corruption):
    kind, arg = corruption
    if kind == "truncate":
        return blob[:arg]
    blob = bytearray(blob)
    for index, mask in arg:
        blob[index] ^= mask
    return bytes(blob)


@pytest.mark.parametrize("mode", ["gz", "plain"])
def test_fuzz_archive_valid_to_begin_with(mode, tmp_path):
    path = tmp_path / ("a.tar.gz" if mode == "gz" else "a.tar")
    path.write_bytes(_ARCHIVES[mode])
    (x, y), (xt, yt) = data.read_image_folder(path)
    assert x.shape == (10, 32, 32, 3) and xt.shape == (10, 32, 32, 3)


@pytest.mark.parametrize("mode", ["gz", "plain"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_=st.data())
def test_fuzz_corrupted_archive_fails_only_with_dataset_error(mode, data_):
    blob = _ARCHIVES[mode]
    corrupted = _corrupt(blob, data_.draw(_corruptions(len(blob))))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("c.tar.gz" if mode == "gz" else "c.tar")
        path.write_bytes(corrupted)
        try:
            (x, y), (xt, yt) = data.read_image_folder(path)
        except data.DatasetError:
            return
        assert x.dtype == np.uint8 and x.shape[1:] == (32, 32, 3) and len(x) == len(y)
        assert set(np.unique(y)) == set(range(10))


# ----------------------------------------------------------------------------- real data

REAL = os.environ.get("CIFAR10_PATH")


@pytest.mark.skipif(
    not (REAL and Path(REAL).exists()), reason="CIFAR10_PATH does not name the real archive"
)
def test_real_cifar10_archive(monkeypatch):
    # Watch the decoding (no second pass over 60,000 files): the first file by name of each
    # train/<class> folder must be the first image of that class's block of labels.
    firsts = {}
    decode = data._decode

    def watching(name, blob, origin):
        image = decode(name, blob, origin)
        split, class_name = data._split_entry(name)
        if split == "train" and (class_name not in firsts or name < firsts[class_name][0]):
            firsts[class_name] = (name, image)
        return image

    monkeypatch.setattr(data, "_decode", watching)
    (x, y), (xt, yt) = data.load_cifar10("auto")
    assert x.shape == (50000, 32, 32, 3) and x.dtype == np.uint8
    assert xt.shape == (10000, 32, 32, 3) and xt.dtype == np.uint8
    assert y.shape == (50000, 1) and y.dtype == np.uint8
    assert yt.shape == (10000, 1) and yt.dtype == np.uint8
    assert np.bincount(y.ravel(), minlength=10).tolist() == [5000] * 10
    assert np.bincount(yt.ravel(), minlength=10).tolist() == [1000] * 10
    assert np.all(np.diff(y.ravel().astype(int)) >= 0)  # sorted by label
    # label c holds the images of the folder CLASSES[c]
    assert sorted(firsts) == sorted(data.CLASSES)
    for label, class_name in enumerate(data.CLASSES):
        np.testing.assert_array_equal(x[label * 5000], firsts[class_name][1])
    mean = x.reshape(-1, 3).mean(axis=0, dtype=np.float64) / 255
    np.testing.assert_allclose(mean, (0.4913, 0.4821, 0.4465), atol=0.002)
    # and the helper that standardises with it agrees (float32 must not lose the sum)
    np.testing.assert_allclose(data.channel_stats(x)[0], mean, atol=1e-4)


def test_channel_stats_exact_on_a_full_size_training_set():
    """17,000 images: 17.4 M values a channel, past float32's exact sums (2**24)."""
    x = np.empty((17000, 32, 32, 3), np.uint8)
    x[...] = (255, 0, 51)
    mean, std = data.channel_stats(x)
    np.testing.assert_allclose(mean, [1.0, 0.0, 0.2], atol=1e-5)
    np.testing.assert_allclose(std, [0.0, 0.0, 0.0], atol=1e-4)


def test_a_bare_folder_name_is_a_path_and_cache_file_names_where_arrays_go(tmp_path, monkeypatch):
    (tmp_path / "cifar10").mkdir()
    monkeypatch.chdir(tmp_path)
    assert data.resolve_source("cifar10") == str((tmp_path / "cifar10").resolve())
    with pytest.raises(data.DatasetError, match="Unknown source"):
        data.resolve_source("cifar11")
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "cache"))
    assert data.cache_file("cifar10").parent == tmp_path / "cache"
    assert data.cache_file("synthetic") is None and data.cache_file("keras") is None


def test_an_archive_is_read_once_for_its_cache_name_and_its_fingerprint(tmp_path, monkeypatch):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"some bytes")
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "cache"))
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: (opened.append(str(p)), real_open(
        p, *a, **k))[1])
    name = data.cache_file(str(archive))
    data.fingerprint(str(archive))
    assert opened.count(str(archive)) == 1
    archive.write_bytes(b"other bytes!")  # a new version: hashed again, named anew
    assert data.cache_file(str(archive)) != name
    assert opened.count(str(archive)) == 2


def test_a_profiles_subsets_are_stratified_and_standardised_with_the_training_statistics(tiny):
    import dataclasses

    from helpers import experiment, profiles

    dataset = tiny(train_per_class=3, test_per_class=3)
    # all the training images (3 a class), a subset of the test images, one a class to validate
    profile = dataclasses.replace(profiles.PROFILES["cpu"], train_per_class=3,
                                  test_per_class=2, val_per_class=1)
    prepared = experiment.prepare_data(profile, dataset.write_tar())
    assert prepared.x_train.shape == (30, 32, 32, 3) and prepared.x_test.shape == (20, 32, 32, 3)
    for y, per_class in ((prepared.y_train, 3), (prepared.y_test, 2), (prepared.y_val, 1)):
        assert np.bincount(y.argmax(axis=1), minlength=10).tolist() == [per_class] * 10
    # the test images (their raw pixels kept for the figures) standardised with the training
    # images' statistics, not their own
    mean, std = data.channel_stats(dataset.expected("train")[0])
    np.testing.assert_allclose(prepared.x_test, data.standardize(prepared.images_test, mean, std),
                               atol=1e-5)
    own = data.channel_stats(prepared.images_test)
    assert not np.allclose(prepared.x_test, data.standardize(prepared.images_test, *own),
                           atol=1e-3)
    # the validation images are drawn from the test images
    test_rows = {row.tobytes() for row in prepared.x_test}
    assert all(row.tobytes() in test_rows for row in prepared.x_val)


@pytest.mark.parametrize("container", ["folder", "tiny.tar.gz"])
def test_class_folders_holding_only_images_of_another_type_are_named_as_such(tiny, container):
    dataset = tiny()
    dataset.entries = {(k[:-4] + ".webp" if "/train/" in k else k): v
                       for k, v in dataset.entries.items()}
    path = dataset.write_folder() if container == "folder" else dataset.write_tar(container)
    with pytest.raises(data.DatasetError, match="'train' split has class folders, but none "
                       r"holds a \.jpg, \.jpeg, \.png file") as info:
        data.load_cifar10(path)
    assert ".webp" in str(info.value) and "no train/ folder" not in str(info.value)


def test_the_tf_data_pipeline_keeps_each_image_with_its_label():
    pytest.importorskip("tensorflow")
    from helpers import pipelines

    x = np.zeros((50, 32, 32, 3), "float32")
    x[:, 0, 0, 0] = np.arange(50)  # each image marked with its index
    y = keras.utils.to_categorical(np.arange(50) % 10, 10)
    seen = []
    for xb, yb in pipelines.tf_dataset(x, y, batch_size=16, augment=False, seed=3):
        index = np.asarray(xb)[:, 0, 0, 0].astype(int)
        assert (np.asarray(yb).argmax(axis=1) == index % 10).all()
        seen += index.tolist()
    assert sorted(seen) == list(range(50)) and seen != list(range(50))  # all once, shuffled


@pytest.mark.parametrize("write", ["write_folder", "write_tar"])
def test_two_copies_of_the_layout_are_refused_not_merged(tiny, write):
    dataset = tiny()
    dataset.entries.update({name.replace(dataset.top, "old-copy", 1): blob
                            for name, blob in list(dataset.entries.items())})
    with pytest.raises(data.DatasetError, match="layout more than once") as info:
        data.read_image_folder(getattr(dataset, write)())
    assert "'tiny-cifar10'" in str(info.value) and "'old-copy'" in str(info.value)


def test_a_folders_fingerprint_follows_a_file_replaced_inside(tiny):
    folder = tiny().write_folder()
    before = data.fingerprint(str(folder))
    image = next(folder.rglob("*.png"))
    image.write_bytes(image.read_bytes() + b"\0")  # the top folder's own time does not change
    assert data.fingerprint(str(folder)) != before


def test_an_archive_is_closed_when_reading_it_fails(tiny, monkeypatch):
    dataset = tiny()
    dataset.entries[f"{dataset.top}/train/dragon/0000.png"] = next(iter(dataset.entries.values()))
    archive = dataset.write_tar()
    opened = []
    real_open = data.tarfile.open
    monkeypatch.setattr(data.tarfile, "open", lambda *a, **k: opened.append(real_open(*a, **k))
                        or opened[-1])
    with pytest.raises(data.DatasetError, match="unknown class folder 'dragon'") as info:
        data.read_image_folder(archive)
    # closed while the error (and with it the reader's frame) is still held
    assert info.tb is not None and opened and all(tar.closed for tar in opened)
