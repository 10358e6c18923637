"""The on-disk index: round trip, manifest, refusal of damaged or mismatched indexes, atomic
rebuilds that never leave a half-written index live, and ensure_index keeping it fresh."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from conftest import LEXICAL_QUESTIONS

import qa.manifest as manifest_module
from qa.embedders import HashingEmbedder
from qa.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    StaleIndexError,
)
from qa.index import (
    CURRENT,
    FORMAT_VERSION,
    MANIFEST,
    CorpusIndex,
    build_index,
    check_fresh,
    corpus_fingerprint,
    current_build,
    ensure_index,
    file_checksum,
    load_index,
)
from qa.keywords import KeywordIndex
from qa.settings import CorpusSettings, IndexSettings, PassageSettings

QUESTIONS = [q for q, _, _ in LEXICAL_QUESTIONS]


def builds(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(("build-", ".tmp-")))


def flip_a_byte(path: Path, offset: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# --- round trip and manifest -----------------------------------------------------------------


def test_load_gives_back_what_was_built(tiny_index: CorpusIndex, hashing_embedder) -> None:
    loaded = load_index(tiny_index.folder.parent, hashing_embedder)
    assert loaded.folder == tiny_index.folder
    assert loaded.manifest == tiny_index.manifest
    assert loaded.passages == tiny_index.passages
    assert loaded.documents == tiny_index.documents
    assert np.array_equal(loaded.dense.vectors, tiny_index.dense.vectors)
    assert loaded.dense.vectors.dtype == np.float32
    for built, read in zip(
        tiny_index.keywords.search(QUESTIONS, 5), loaded.keywords.search(QUESTIONS, 5), strict=True
    ):
        assert built[0].tolist() == read[0].tolist()
        assert np.allclose(built[1], read[1])
    queries = hashing_embedder.encode(QUESTIONS, "query")
    built_dense = tiny_index.dense.search(queries, 5)
    for built_array, read_array in zip(built_dense, loaded.dense.search(queries, 5), strict=True):
        assert np.array_equal(built_array, read_array)


def test_documents_keep_their_dropped_furniture(tiny_index: CorpusIndex, hashing_embedder) -> None:
    loaded = load_index(tiny_index.folder.parent, hashing_embedder)
    bees = next(d for d in loaded.documents.values() if d.source == "beekeeping.txt")
    dropped = [bees.text[d.start : d.end] for d in bees.dropped]
    assert "Skip to content" in dropped and "Leave a Reply" in dropped
    assert isinstance(bees.dropped, tuple)


def test_manifest_records_what_the_index_was_built_from(
    tiny_index: CorpusIndex, tiny_corpus: Path, hashing_embedder: HashingEmbedder
) -> None:
    folder = tiny_index.folder
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest == tiny_index.manifest
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["embedder"] == {"name": "hashing-1024", "dim": 1024}
    assert manifest["passages"]["settings"] == asdict(PassageSettings())
    assert manifest["passages"]["count"] == len(tiny_index.passages)
    assert manifest["dense"] == asdict(IndexSettings())
    assert manifest["corpus"]["fingerprint"] == corpus_fingerprint(tiny_corpus)
    assert manifest["corpus"]["documents"] == 3
    assert manifest["corpus"]["settings"] == json.loads(json.dumps(asdict(CorpusSettings())))
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        MANIFEST
    }
    assert set(manifest["files"]) == on_disk
    assert {"documents.jsonl", "passages.jsonl", "vectors.npy"} <= on_disk
    assert any(name.startswith("bm25/") for name in on_disk)
    for name, checksum in manifest["files"].items():
        assert checksum == file_checksum(folder / name)
    assert (folder.parent / CURRENT).read_text(encoding="utf-8").strip() == folder.name


def test_index_files_are_plain_formats_without_pickle(tiny_index: CorpusIndex) -> None:
    names = [p.name for p in tiny_index.folder.rglob("*") if p.is_file()]
    assert all(n.endswith((".json", ".jsonl", ".npy")) for n in names), names
    np.load(tiny_index.folder / "vectors.npy", allow_pickle=False)


def test_same_corpus_gives_same_ids_and_version(
    tiny_corpus: Path, tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    first = build_index(tiny_corpus, tmp_path / "a", hashing_embedder)
    again = build_index(tiny_corpus, tmp_path / "a", hashing_embedder)  # same folder, same second
    elsewhere = build_index(tiny_corpus, tmp_path / "b", hashing_embedder)
    ids = [p.passage_id for p in first.passages]
    assert len(set(ids)) == len(ids)
    for other in (again, elsewhere):
        assert [p.passage_id for p in other.passages] == ids
        assert other.version == first.version
    assert again.folder != first.folder
    assert builds(tmp_path / "a") == [again.folder.name]  # the superseded build is removed


def test_version_changes_with_the_corpus_and_the_embedder(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    base = build_index(tiny_corpus, tmp_path / "a", HashingEmbedder(dim=1024))
    other_embedder = build_index(tiny_corpus, tmp_path / "b", HashingEmbedder(dim=128))
    with (tiny_corpus / "bread.txt").open("a", encoding="utf-8") as handle:
        handle.write("\nRye flour makes a denser loaf.\n")
    other_corpus = build_index(tiny_corpus, tmp_path / "c", HashingEmbedder(dim=1024))
    assert len({base.version, other_embedder.version, other_corpus.version}) == 3


# --- refusing damaged, mismatched or missing indexes -----------------------------------------


def test_flipped_byte_in_vectors_is_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    flip_a_byte(tiny_index.folder / "vectors.npy")
    with pytest.raises(IndexCorruptError, match=r"vectors\.npy"):
        load_index(tiny_index.folder.parent, hashing_embedder)


def test_edited_passages_file_is_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    path = tiny_index.folder / "passages.jsonl"
    text = path.read_text(encoding="utf-8")
    assert "twice a day" in text
    path.write_text(text.replace("twice a day", "once a day"), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"passages\.jsonl"):
        load_index(tiny_index.folder.parent, hashing_embedder)


def test_missing_bm25_file_is_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    victim = next(name for name in tiny_index.manifest["files"] if name.startswith("bm25/"))
    (tiny_index.folder / victim).unlink()
    with pytest.raises(IndexCorruptError, match="missing") as caught:
        load_index(tiny_index.folder.parent, hashing_embedder)
    assert victim in str(caught.value)


def test_unreadable_manifest_is_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    (tiny_index.folder / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"manifest\.json"):
        load_index(tiny_index.folder.parent, hashing_embedder)


def test_pointer_to_a_missing_build_is_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    (tiny_index.folder.parent / CURRENT).write_text("build-gone\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="build-gone"):
        load_index(tiny_index.folder.parent, hashing_embedder)


def test_unreadable_pointer_is_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    (tiny_index.folder.parent / CURRENT).write_bytes(b"\xff\xfe\x00")
    with pytest.raises(IndexCorruptError, match="CURRENT"):
        load_index(tiny_index.folder.parent, hashing_embedder)


@pytest.mark.parametrize("section", ["corpus", "embedder", "passages", "dense", "index_version"])
def test_incomplete_manifest_is_refused(
    tiny_index: CorpusIndex, hashing_embedder, section: str
) -> None:
    manifest = dict(tiny_index.manifest)
    del manifest[section]
    (tiny_index.folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="incomplete"):
        load_index(tiny_index.folder.parent, hashing_embedder)


def test_a_file_the_manifest_does_not_list_is_refused(
    tiny_index: CorpusIndex, hashing_embedder
) -> None:
    """An edited passages file whose checksum was taken out of the manifest is not served."""
    path = tiny_index.folder / "passages.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("twice", "thrice"), encoding="utf-8")
    manifest = dict(tiny_index.manifest)
    manifest["files"] = {k: v for k, v in manifest["files"].items() if k != "passages.jsonl"}
    (tiny_index.folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"does not list \(passages\.jsonl\)"):
        load_index(tiny_index.folder.parent, hashing_embedder)


def test_a_build_leaves_folders_it_did_not_make(
    tiny_corpus: Path, tmp_path: Path, hashing_embedder
) -> None:
    """Only its own superseded builds are deleted: "--index ." must not cost a user files."""
    index_dir = tmp_path / "project"
    names = ("build-scripts", "build-20260101T000000-0-1", ".tmp-x")
    keep = [index_dir / name for name in names]
    for folder in keep:  # a look-alike build folder without a manifest is not ours either
        folder.mkdir(parents=True)
        (folder / "deploy.sh").write_text("important\n", encoding="utf-8")
    build_index(tiny_corpus, index_dir, hashing_embedder)
    build_index(tiny_corpus, index_dir, hashing_embedder)
    assert all((folder / "deploy.sh").is_file() for folder in keep)
    ours = [p for p in index_dir.iterdir() if (p / MANIFEST).is_file()]
    assert len(ours) == 1  # the superseded build of the first run is gone


def test_other_format_version_is_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    manifest = dict(tiny_index.manifest, format_version=FORMAT_VERSION + 1)
    (tiny_index.folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="format"):
        load_index(tiny_index.folder.parent, hashing_embedder)


def test_other_embedder_is_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    build_index(tiny_corpus, tmp_path / "index", HashingEmbedder(dim=256))
    with pytest.raises(IndexMismatchError, match="hashing-256") as caught:
        load_index(tmp_path / "index", HashingEmbedder(dim=128))
    assert "hashing-128" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_other_settings_are_refused(tiny_index: CorpusIndex, hashing_embedder) -> None:
    with pytest.raises(IndexMismatchError, match="passage settings"):
        load_index(
            tiny_index.folder.parent,
            hashing_embedder,
            passage_settings=PassageSettings(min_words=10),
        )
    with pytest.raises(IndexMismatchError, match="FAISS"):
        load_index(
            tiny_index.folder.parent, hashing_embedder, index_settings=IndexSettings(kind="hnsw")
        )
    # The settings it was built with are accepted.
    load_index(
        tiny_index.folder.parent,
        hashing_embedder,
        passage_settings=PassageSettings(),
        index_settings=IndexSettings(),
    )


def test_missing_index_is_a_file_not_found_error(tmp_path: Path, hashing_embedder) -> None:
    with pytest.raises(IndexNotFoundError, match="qa build") as caught:
        load_index(tmp_path / "nowhere", hashing_embedder)
    assert isinstance(caught.value, FileNotFoundError)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFoundError):
        load_index(tmp_path / "empty", hashing_embedder)


def test_hnsw_index_round_trips(tiny_corpus: Path, tmp_path: Path, hashing_embedder) -> None:
    settings = IndexSettings(kind="hnsw")
    built = build_index(tiny_corpus, tmp_path / "index", hashing_embedder, index_settings=settings)
    assert "dense.hnsw.faiss" in built.manifest["files"]
    loaded = load_index(tmp_path / "index", hashing_embedder, index_settings=settings)
    queries = hashing_embedder.encode(QUESTIONS, "query")
    assert np.array_equal(built.dense.search(queries, 3)[1], loaded.dense.search(queries, 3)[1])


# --- interrupted builds ----------------------------------------------------------------------


class Interrupted(Exception):
    pass


def test_build_failing_midway_leaves_the_previous_index_live(
    tiny_index: CorpusIndex,
    tiny_corpus: Path,
    hashing_embedder: HashingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index_dir = tiny_index.folder.parent
    before = {p: p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}
    (tiny_corpus / "bread.txt").write_text("Rye bread is dense and dark.\n", encoding="utf-8")

    def fail(*args: object, **kwargs: object) -> list[str]:
        raise Interrupted("killed while writing bm25")

    monkeypatch.setattr(KeywordIndex, "save", fail)
    with pytest.raises(Interrupted):
        build_index(tiny_corpus, index_dir, hashing_embedder)
    after = {p: p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}
    assert after == before  # nothing added, removed or changed: no temporary folder left
    loaded = load_index(index_dir, hashing_embedder)
    assert loaded.version == tiny_index.version
    assert loaded.passages == tiny_index.passages


def test_build_failing_at_the_pointer_swap_keeps_serving_the_old_build(
    tiny_index: CorpusIndex,
    tiny_corpus: Path,
    hashing_embedder: HashingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index_dir = tiny_index.folder.parent
    (tiny_corpus / "bread.txt").write_text("Rye bread is dense and dark.\n", encoding="utf-8")
    real_replace = os.replace

    def replace(src: object, dst: object) -> None:
        if Path(str(dst)).name == CURRENT:
            raise Interrupted("killed before the swap")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Interrupted):
        build_index(tiny_corpus, index_dir, hashing_embedder)
    monkeypatch.undo()
    assert current_build(index_dir) == tiny_index.folder
    assert load_index(index_dir, hashing_embedder).passages == tiny_index.passages
    # The next good build takes over and clears whatever the failed one left behind.
    rebuilt = build_index(tiny_corpus, index_dir, hashing_embedder)
    assert builds(index_dir) == [rebuilt.folder.name]
    assert load_index(index_dir, hashing_embedder).version == rebuilt.version != tiny_index.version


class RacingRebuild:
    """A rebuild of a changed corpus that lands once, in the middle of a reader's load."""

    def __init__(self, old: CorpusIndex, corpus: Path, embedder: HashingEmbedder) -> None:
        (corpus / "bread.txt").write_text("Rye bread is dense and dark.\n", encoding="utf-8")
        self.old, self.corpus, self.embedder = old, corpus, embedder
        self.new: CorpusIndex | None = None
        self._started = False

    def __call__(self) -> None:
        if self._started:
            return
        self._started = True  # guard: the rebuild itself checksums and lists files too
        self.new = build_index(self.corpus, self.old.folder.parent, self.embedder)
        assert not self.old.folder.exists()


def test_load_moves_on_when_a_rebuild_removes_the_build_being_read(
    tiny_index: CorpusIndex,
    tiny_corpus: Path,
    hashing_embedder: HashingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    race = RacingRebuild(tiny_index, tiny_corpus, hashing_embedder)
    real_checksum = manifest_module.file_checksum

    def checksum_racing_a_rebuild(path: Path) -> str:
        # The reader has read CURRENT and starts checking files: a rebuild lands right now.
        if path.is_relative_to(tiny_index.folder):
            race()
        return real_checksum(path)

    # verify_files (qa.manifest) checksums each file of the build being loaded.
    monkeypatch.setattr(manifest_module, "file_checksum", checksum_racing_a_rebuild)
    loaded = load_index(tiny_index.folder.parent, hashing_embedder)
    assert race.new is not None
    assert loaded.folder == race.new.folder
    assert loaded.version == race.new.version != tiny_index.version


def test_load_moves_on_when_a_rebuild_removes_the_build_while_it_is_listed(
    tiny_index: CorpusIndex,
    tiny_corpus: Path,
    hashing_embedder: HashingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found by CI: a rebuild removed the old build while verify_files listed it, and listing its
    # bm25/ subfolder raised a bare FileNotFoundError instead of moving on to the new build.
    race = RacingRebuild(tiny_index, tiny_corpus, hashing_embedder)
    real_rglob = Path.rglob

    def rglob_racing_a_rebuild(self: Path, pattern: str):  # type: ignore[no-untyped-def]
        for n, path in enumerate(real_rglob(self, pattern)):
            if n == 0 and self == tiny_index.folder:
                race()
            yield path

    monkeypatch.setattr(Path, "rglob", rglob_racing_a_rebuild)
    loaded = load_index(tiny_index.folder.parent, hashing_embedder)
    assert race.new is not None
    assert loaded.folder == race.new.folder != tiny_index.folder


def test_readers_keep_loading_while_the_index_is_rebuilt(
    tiny_index: CorpusIndex, tiny_corpus: Path, hashing_embedder: HashingEmbedder
) -> None:
    index_dir = tiny_index.folder.parent
    stop = threading.Event()
    errors: list[BaseException] = []
    loads = [0]

    def read_forever() -> None:
        while not stop.is_set():
            try:
                index = load_index(index_dir, hashing_embedder)
                assert len(index.passages) == len(index.dense)
                loads[0] += 1
            except BaseException as exc:  # every failure is a test failure
                errors.append(exc)
                return

    readers = [threading.Thread(target=read_forever) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for n in range(5):
            with (tiny_corpus / "bread.txt").open("a", encoding="utf-8") as handle:
                handle.write(f"\nVariation {n}: add a handful of seeds to the dough.\n")
            build_index(tiny_corpus, index_dir, hashing_embedder)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert not errors, repr(errors[0])
    assert loads[0] > 0
    assert len(builds(index_dir)) == 1


# --- freshness and ensure_index ---------------------------------------------------------------


def test_edited_corpus_makes_the_index_stale(tiny_index: CorpusIndex, tiny_corpus: Path) -> None:
    check_fresh(tiny_index, tiny_corpus)
    with (tiny_corpus / "bicycle.txt").open("a", encoding="utf-8") as handle:
        handle.write("\nOil the derailleur pivots once a month.\n")
    with pytest.raises(StaleIndexError, match="changed"):
        check_fresh(tiny_index, tiny_corpus)


def test_a_new_or_removed_file_makes_the_index_stale(
    tiny_index: CorpusIndex, tiny_corpus: Path
) -> None:
    (tiny_corpus / "tea.txt").write_text("Green tea is brewed below boiling.\n", encoding="utf-8")
    with pytest.raises(StaleIndexError):
        check_fresh(tiny_index, tiny_corpus)
    (tiny_corpus / "tea.txt").unlink()
    check_fresh(tiny_index, tiny_corpus)
    (tiny_corpus / "bread.txt").unlink()
    with pytest.raises(StaleIndexError):
        check_fresh(tiny_index, tiny_corpus)


def test_a_linked_file_is_read_and_watched_a_linked_folder_is_not_followed(
    tiny_corpus: Path, tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "tea.txt"
    target.write_text("Green tea is brewed with water just below boiling point.\n", "utf-8")
    (tiny_corpus / "tea.txt").symlink_to(target)
    (tiny_corpus / "shelf").symlink_to(elsewhere, target_is_directory=True)
    (tiny_corpus / "loop").symlink_to(tiny_corpus, target_is_directory=True)
    index = build_index(tiny_corpus, tmp_path / "index", hashing_embedder)
    sources = {p.source for p in index.passages}
    assert "tea.txt" in sources, "the linked file is read"
    assert not any(s.startswith(("shelf/", "loop/")) for s in sources), "folders not followed"
    check_fresh(index, tiny_corpus)
    target.write_text("Black tea is brewed with boiling water.\n", "utf-8")
    with pytest.raises(StaleIndexError):
        check_fresh(index, tiny_corpus)


def test_fingerprint_ignores_hidden_and_other_files(tiny_corpus: Path) -> None:
    before = corpus_fingerprint(tiny_corpus)
    (tiny_corpus / ".notes.txt").write_text("private", encoding="utf-8")
    (tiny_corpus / "image.png").write_bytes(b"\x89PNG")
    assert corpus_fingerprint(tiny_corpus) == before


def test_ensure_index_builds_a_missing_index_and_then_reuses_it(
    tiny_corpus: Path, tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    said: list[str] = []
    first = ensure_index(tiny_corpus, tmp_path / "index", hashing_embedder, say=said.append)
    assert any("No index" in line for line in said)
    assert any("Built index" in line for line in said)
    said.clear()
    second = ensure_index(tiny_corpus, tmp_path / "index", hashing_embedder, say=said.append)
    assert said == []
    assert second.folder == first.folder


def test_ensure_index_rebuilds_a_stale_index_and_says_so(
    tiny_index: CorpusIndex, tiny_corpus: Path, hashing_embedder: HashingEmbedder
) -> None:
    (tiny_corpus / "bicycle.txt").write_text(
        "Bicycle Lights\n\nFit a white light at the front and a red one at the back.\n",
        encoding="utf-8",
    )
    said: list[str] = []
    index = ensure_index(tiny_corpus, tiny_index.folder.parent, hashing_embedder, say=said.append)
    assert any(line.startswith("Rebuilding") and "changed" in line for line in said), said
    assert index.version != tiny_index.version
    assert any("red one at the back" in p.text for p in index.passages)
    assert not any("derailleur" in p.text or "Brake" in p.section for p in index.passages)
    check_fresh(index, tiny_corpus)


def test_ensure_index_rebuilds_a_corrupted_index_and_says_why(
    tiny_index: CorpusIndex, tiny_corpus: Path, hashing_embedder: HashingEmbedder
) -> None:
    flip_a_byte(tiny_index.folder / "vectors.npy")
    said: list[str] = []
    index = ensure_index(tiny_corpus, tiny_index.folder.parent, hashing_embedder, say=said.append)
    assert any("Rebuilding" in line and "vectors.npy" in line for line in said), said
    assert index.version == tiny_index.version  # same corpus, same content-derived version
    assert index.folder != tiny_index.folder
    assert np.array_equal(
        load_index(index.folder.parent, hashing_embedder).dense.vectors, tiny_index.dense.vectors
    )


def test_ensure_index_rebuilds_for_another_embedder(
    tiny_index: CorpusIndex, tiny_corpus: Path
) -> None:
    said: list[str] = []
    index = ensure_index(
        tiny_corpus, tiny_index.folder.parent, HashingEmbedder(dim=128), say=said.append
    )
    assert index.manifest["embedder"]["dim"] == 128
    assert any("Rebuilding" in line for line in said)


def test_ensure_index_rebuilds_for_other_corpus_settings(
    tiny_index: CorpusIndex, tiny_corpus: Path, hashing_embedder: HashingEmbedder
) -> None:
    said: list[str] = []
    settings = CorpusSettings(extra_furniture=("garden notes weekly",))
    index = ensure_index(
        tiny_corpus,
        tiny_index.folder.parent,
        hashing_embedder,
        corpus_settings=settings,
        say=said.append,
    )
    assert any("corpus settings" in line for line in said), said
    assert index.manifest["corpus"]["settings"]["extra_furniture"] == ["garden notes weekly"]


def test_ensure_index_without_its_corpus_refuses_a_bad_index(
    tiny_index: CorpusIndex, tmp_path: Path, hashing_embedder: HashingEmbedder
) -> None:
    flip_a_byte(tiny_index.folder / "vectors.npy")
    with pytest.raises(IndexCorruptError):
        ensure_index(tmp_path / "no-corpus", tiny_index.folder.parent, hashing_embedder)
