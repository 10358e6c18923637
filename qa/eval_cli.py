"""``qa eval``: benchmark runs (BEIR), question-set runs with a threshold sweep, and report diffs.

Thin: the work is in :mod:`qa.beir`, :mod:`qa.questions` and :mod:`qa.metrics`; this module parses
options, prints tables and writes JSON. ``QA_CACHE`` (the BEIR index cache) is read here only.
It adds itself to ``qa``'s group (:mod:`qa.cli` imports it at its end, so ``qa eval`` exists
whichever of the two modules is imported first).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from qa.cli import (
    SPLITS,
    _say,
    command_embedder,
    command_settings,
    corpus_option,
    index_option,
    main,
    translate_errors,
)
from qa.errors import InputError
from qa.settings import MODES

#: The same list as qa.beir_run.EVAL_MODES, spelled out so ``qa --help`` need not import numpy.
EVAL_MODES = (*MODES, "hybrid-rrf", "hybrid-convex")


@click.group("eval", invoke_without_command=True)
@click.option("--beir", "beir_dir", type=click.Path(path_type=Path, file_okay=False),
              help="A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv).")
@click.option("--split", default="test", show_default=True, help="The qrels split to evaluate.")
@click.option("--questions", "questions_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A labelled question file (JSONL) for the corpus.")
@click.option("--mode", "modes", multiple=True, type=click.Choice(EVAL_MODES),
              help="Retrieval mode; repeat for a side-by-side table. "
                   "[BEIR default: bm25, dense, hybrid; questions: hybrid]")
@click.option("--k", type=click.IntRange(1, 1000), default=None,
              help="Cut-off of nDCG and MRR [BEIR: 10]; passages shown [questions: 5].")
@click.option("--depth", type=click.IntRange(100, 10000), default=100, show_default=True,
              help="BEIR: documents kept per query (Recall@100 needs 100).")
@click.option("--fusion-depth", type=click.IntRange(1, 10000), default=100, show_default=True,
              help="BEIR: rows each retriever contributes to a fused mode.")
@click.option("--alpha", type=click.FloatRange(0, 1), default=None,
              help="BEIR: weight of the dense score in convex fusion [the engine's setting].")
@click.option("--rerank-weight", type=click.FloatRange(0, 100), default=None,
              help="Weight of MaxSim against the fused score in the second stage, in place of "
                   "learned weights (qa eval fit); 0 turns the stage off [the engine's or the "
                   "corpus's setting].")
@click.option("--split-passages", is_flag=True,
              help="BEIR: cut documents into the engine's passages (a document scores as its "
                   "best passage) instead of one unit per document.")
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path, file_okay=False),
              default=lambda: os.environ.get("QA_CACHE", ".cache/qa/beir"),
              show_default=".cache/qa/beir or $QA_CACHE",
              help="BEIR: where corpus indexes are kept.")
@click.option("--run-out", type=click.Path(path_type=Path, dir_okay=False),
              help="BEIR: TREC run file; with several modes, one per mode (run.<mode>.trec, or "
                   "a name containing {mode}).")
@click.option("--threshold", type=click.FloatRange(-1, 1), default=None,
              help="Questions: abstention threshold (cosine) instead of the default.")
@click.option("--author-evidence", is_flag=True,
              help="Questions: count only the author's evidence phrases, not those added by "
                   "pooled judging (evidence_pooled).")
@click.option("--sweep", "show_sweep", is_flag=True,
              help="Questions: print the whole abstention-threshold trade-off table.")
@click.option("--max-false-abstention", type=click.FloatRange(0, 1), default=0.05,
              show_default=True, help="Questions: bound on answerable questions abstained on, "
                                      "for the recommended threshold.")
@click.option("--compare", "compare_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Questions: an earlier report to diff this run against, question by question.")
@click.option("--report", "report_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the full JSON report here.")
@corpus_option
@index_option
@click.pass_context
@translate_errors
def _eval(ctx: click.Context, **options: Any) -> None:
    """Evaluate retrieval on a BEIR data set (--beir) or a labelled question set (--questions).

    \b
    qa eval --beir ../shared/datasets/nfcorpus --mode bm25 --mode dense --mode hybrid
    qa eval --questions tests/data/questions.jsonl --sweep --report after.json --compare before.json
    qa eval diff before.json after.json
    """
    if ctx.invoked_subcommand is not None:
        return
    if (options["beir_dir"] is None) == (options["questions_file"] is None):
        raise click.UsageError("give either --beir DIR or --questions FILE (or: qa eval diff A B)")
    if options["beir_dir"] is not None:
        _run_beir(**options)
    else:
        _run_questions(**options)


eval_command: click.Group = _eval


# --- BEIR ------------------------------------------------------------------------------------


def _run_beir(beir_dir: Path, split: str, modes: Sequence[str], k: int | None, depth: int,
              fusion_depth: int, alpha: float | None, rerank_weight: float | None,
              split_passages: bool, cache_dir: Path, run_out: Path | None,
              report_file: Path | None, **_: Any) -> None:
    from qa.beir import load_beir, open_beir_index
    from qa.beir_run import beir_report, run_queries, write_run
    from qa.settings import PassageSettings, SearchSettings

    started = time.perf_counter()
    modes = list(dict.fromkeys(modes or ("bm25", "dense", "hybrid")))
    k = k or 10
    dataset = load_beir(beir_dir, split)
    _say(f"{beir_dir} ({split}): {len(dataset.doc_ids)} documents, {len(dataset.queries)} queries")
    embedder = command_embedder()
    index = open_beir_index(
        dataset, embedder, cache_dir,
        passage_settings=PassageSettings() if split_passages else None, progress=True, say=_say,
    )
    search = SearchSettings() if alpha is None else replace(SearchSettings(), alpha=alpha)
    if rerank_weight is not None:
        search = replace(search, rerank_weight=rerank_weight)
    runs = run_queries(index, dataset, embedder, modes, depth=max(depth, k),
                       fusion_depth=fusion_depth, settings=search, progress=True)
    settings = {"k": k, "depth": max(depth, k), "fusion_depth": fusion_depth,
                "hybrid_fusion": search.fusion, "rrf_k": search.rrf_k, "alpha": search.alpha,
                "rerank_weight": search.rerank_weight, "rerank_depth": search.rerank_depth,
                "split_passages": split_passages}
    report = beir_report(dataset, index, runs, k=k, settings=settings)
    report["wall_seconds"] = round(time.perf_counter() - started, 3)
    if run_out is not None:
        for mode, result in runs.items():
            path = _run_path(run_out, mode, len(runs))
            write_run(path, result.run, tag=f"qa-{mode}")
            _say(f"Wrote the {mode} run to {path}")
    _write_report(report_file, report)
    click.echo(beir_table(report))


def _run_path(template: Path, mode: str, count: int) -> Path:
    if "{mode}" in template.name:
        return template.with_name(template.name.replace("{mode}", mode))
    if count == 1:
        return template
    return template.with_name(f"{template.stem}.{mode}{template.suffix}")


def beir_table(report: Mapping[str, Any]) -> str:
    """The side-by-side table of a BEIR report."""
    d, ix = report["dataset"], report["index"]
    k = report["settings"].get("k", 10)
    built = "cached" if ix["from_cache"] else "built"
    lines = [
        f"{d['folder']} ({d['split']}): {d['documents']} documents, {d['queries']} queries",
        f"index {built} ({ix['embedder']['name']}, {ix['documents_per_second']} documents/s "
        f"when built)",
        "",
        f"{'mode':<14} {'nDCG@' + str(k):>8} {'Recall@100':>10} {'MRR@' + str(k):>8} "
        f"{'queries/s':>10}",
    ]
    for mode, row in report["modes"].items():
        m = row["metrics"]
        lines.append(f"{mode:<14} {m[f'ndcg@{k}']:>8.4f} {m['recall@100']:>10.4f} "
                     f"{m[f'mrr@{k}']:>8.4f} {row['queries_per_second']:>10.1f}")
    if "wall_seconds" in report:
        lines.append(f"\nwall time {report['wall_seconds']:.1f} s")
    return "\n".join(lines)


# --- question sets ---------------------------------------------------------------------------


def _run_questions(questions_file: Path, modes: Sequence[str], k: int | None,
                   threshold: float | None, rerank_weight: float | None,
                   author_evidence: bool, show_sweep: bool, max_false_abstention: float,
                   compare_file: Path | None, report_file: Path | None, corpus_dir: Path,
                   index_dir: Path, **_: Any) -> None:
    from qa.api import open_searcher
    from qa.questions import evaluate_questions, load_questions
    from qa.report_diff import diff_reports

    if len(modes) > 1 or (modes and modes[0] not in MODES):
        raise click.UsageError(f"questions are evaluated in one mode: one of {', '.join(MODES)}")
    questions = load_questions(questions_file, pooled=not author_evidence)
    old = _read_report(compare_file) if compare_file else None
    overrides: dict[str, Any] = {"mode": modes[0]} if modes else {}
    if threshold is not None:
        overrides["abstain_threshold"] = threshold
    if rerank_weight is not None:  # the fixed sum at this weight, not the learned one
        overrides.update(rerank_weight=rerank_weight, rerank_features=())
    # The corpus's calibrated settings (its .qa-search.json), with the command's overrides.
    settings = replace(command_settings(corpus_dir), **overrides)
    searcher = open_searcher(corpus_dir, index_dir, embedder=command_embedder(),
                             search_settings=settings, progress=True, say=_say)
    report = evaluate_questions(searcher, questions, k=k or 5,
                                max_false_abstention=max_false_abstention)
    report["questions_file"] = str(questions_file)
    if old is not None:
        report["compare"] = diff_reports(old, report)
    _write_report(report_file, report)
    click.echo(questions_table(report, show_sweep=show_sweep))
    if old is not None:
        click.echo("\n" + diff_text(report["compare"]))


def questions_table(report: Mapping[str, Any], *, show_sweep: bool = False) -> str:
    """Summary per split, the misses with what was shown instead, and the threshold advice."""
    s = report["settings"]
    learned = s.get("rerank_features")
    reranker = (f"learned re-ranker ({', '.join(f'{k} {v:+g}' for k, v in learned.items())})"
                if learned and s.get("rerank_weight", 0.0) > 0
                else f"re-ranker weight {s.get('rerank_weight', 0.0)}")
    lines = [
        f"mode {s['mode']}, threshold {s['abstain_threshold']}, {reranker}, "
        f"{s['k']} passages shown, index {report['index_version']}",
        "",
        f"{'':<12} {'answerable':>10} {'':>27} {'wrongly':>9}   abstained on not covered",
        f"{'split':<12} {'n':>10} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'MRR@5':>6} "
        f"{'abstained':>9}   {'off-topic (n)':>15} {'near-domain (n)':>17}",
    ]
    for split, row in report["summary"].items():
        lines.append(
            f"{split:<12} {row['answerable']:>10} {row['hit@1']:>6.3f} {row['hit@3']:>6.3f} "
            f"{row['hit@5']:>6.3f} {row['mrr@5']:>6.3f} {_share(row['false_abstention']):>9}   "
            f"{_share(row['off_topic_abstained'], row['off_topic']):>15} "
            f"{_share(row['near_domain_abstained'], row['near_domain']):>17}"
        )
    lines += ["", "95% intervals (Wilson): " + "; ".join(
        f"{split} hit@1 {_interval(row['hit@1_ci95'])} hit@3 {_interval(row['hit@3_ci95'])}"
        for split, row in report["summary"].items() if row["answerable"]
    )]
    marked = report.get("highlight") or {}
    if marked.get("judged"):
        lines.append(f"Highlight: the marked sentence holds the evidence in "
                     f"{marked['on_evidence']:.2f} of {marked['judged']} relevant passages shown")
    caution = {kind: row for kind, row in (report.get("caution") or {}).items() if row["answered"]}
    if caution:
        lines.append('"Never mention" caution on answers shown: ' + ", ".join(
            f"{kind.replace('_', '-')} {row['cautioned']} of {row['answered']}"
            for kind, row in caution.items()
        ))
    misses = report["misses"]
    lines += ["", f"Misses ({len(misses)}):"]
    for miss in misses:
        lines.append(f"  {miss['id']} [{miss['split']}] {miss['question']!r}")
        if miss["answerable"]:
            why = "abstained" if miss["abstained"] else "no relevant passage shown"
            best = miss["best_relevant_candidate"]
            found = (f"; first relevant candidate #{best} (cosine {miss['best_relevant_cosine']})"
                     if best else "; no relevant candidate at all")
            lines.append(f"      {why}{found}")
        else:
            lines.append(f"      not covered ({miss['kind'].replace('_', '-')}), but passages "
                         "were shown")
        for r in miss["returned"]:
            where = f"{r['title']} — {r['section']}" if r["section"] else r["title"]
            lines.append(f"      [{r['rank']}] {r['cosine']:.3f} {where}: {r['text'][:90]}")
    sweep = report["sweep"]
    if show_sweep:
        rec = sweep["recommended"]
        lines += ["", sweep_table(sweep["points"], rec["threshold"] if rec else None)]
    lines.append("")
    rec = sweep["recommended"]
    measured = ("off_topic_abstained", "false_abstention")
    calibration = sweep["points"].get("calibration", [])
    if rec is None and not all(any(p[m] is not None for p in calibration) for m in measured):
        lines.append("No threshold recommended: the calibration split needs both answerable and "
                     "off-topic questions.")
    elif rec is None:
        lines.append(f"No threshold keeps wrong abstentions under {sweep['max_false_abstention']} "
                     "on the calibration split.")
    else:
        lines.append(
            f"Recommended threshold {rec['threshold']:.2f} (most off-topic abstentions with at "
            f"most {sweep['max_false_abstention']} answerable wrongly abstained, on calibration)"
        )
        low, high = rec["equally_good"]
        if high > low:
            shipped = report["settings"]["abstain_threshold"]
            where = "inside" if low <= shipped <= high else "outside"
            lines.append(f"  equally good on calibration: {low:.2f}-{high:.2f} (the threshold "
                         f"in use, {shipped:.2f}, is {where} it)")
        for split, point in (("calibration", rec), *sweep["recommended_on"].items()):
            if point is not None:
                lines.append(
                    f"  {split}: off-topic abstained {_share(point['off_topic_abstained'])}, "
                    f"near-domain {_share(point['near_domain_abstained'])}, wrongly abstained "
                    f"{_share(point['false_abstention'])}, hit@5 {point['hit@5']:.3f}"
                )
    if report.get("replay_mismatches"):
        lines.append(f"warning: the sweep's replay disagrees with the engine on "
                     f"{len(report['replay_mismatches'])} question(s)")
    return "\n".join(lines)


def _interval(bounds: Sequence[float]) -> str:
    return f"{bounds[0]:.2f}-{bounds[1]:.2f}"


def sweep_table(
    points: Mapping[str, Sequence[Mapping[str, Any]]], recommended: float | None = None
) -> str:
    """The threshold trade-off per split, printing only thresholds where something changes."""
    splits = list(points)
    lines = [
        " " * 10 + "".join(f"{split:<40}" for split in splits),
        "threshold " + "off-topic near-domain  wrongly  hit@5    " * len(splits),
        " " * 10 + "abstained on             abstained         " * len(splits),
    ]
    previous = None
    for i, point in enumerate(points[splits[0]]):
        values = [
            tuple(_share(p[name]) for name in
                  ("off_topic_abstained", "near_domain_abstained", "false_abstention", "hit@5"))
            for p in (points[s][i] for s in splits)
        ]
        mark = point["threshold"] == recommended
        if values != previous or mark:
            cells = "".join(f"{o:>9} {n:>11} {w:>8} {h:>6}    " for o, n, w, h in values)
            lines.append(f"{point['threshold']:>9.2f} {cells}{'<- recommended' if mark else ''}")
        previous = values
    return "\n".join(line.rstrip() for line in lines)


# --- diffs -----------------------------------------------------------------------------------


@eval_command.command("fit")
@click.option("--questions", "questions_file", required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="Labelled questions (JSONL); only the --split ones are learned from.")
@click.option("--split", default="calibration", show_default=True, type=click.Choice(SPLITS),
              help="The split learned from; the others measure the result.")
@click.option("--c", "c", type=click.FloatRange(1e-6, 1e6), default=None,
              help="Inverse regularisation strength of the logistic regression [default: 0.1].")
@click.option("--write", is_flag=True,
              help="Store the weights in the corpus's settings file (.qa-search.json).")
@corpus_option
@index_option
@translate_errors
def fit_command(questions_file: Path, split: str, c: float | None, write: bool,
                corpus_dir: Path, index_dir: Path) -> None:
    """Learn the second stage's weights from labelled questions and show what they change.

    Prints the weights, then hit@1 and hit@3 per split with the corpus's current settings and
    with the learned weights. With --write, the corpus's settings file gets them
    ("rerank_features"), its other settings kept."""
    from qa.api import open_searcher, update_corpus_search_settings
    from qa.learn import DEFAULT_C, fit_weights
    from qa.questions import evaluate_questions, load_questions
    from qa.search import Searcher

    questions = load_questions(questions_file)
    current = command_settings(corpus_dir)
    searcher = open_searcher(corpus_dir, index_dir, embedder=command_embedder(),
                             search_settings=current, progress=True, say=_say)
    fitted = fit_weights(searcher, questions, split=split, c=DEFAULT_C if c is None else c)
    click.echo(f"Learned from {fitted.questions} {split} questions ({fitted.candidates} "
               f"candidates, {fitted.relevant} relevant); left out, as none or all of their "
               f"candidates hold evidence: {', '.join(fitted.left_out) or 'none'}")
    click.echo("weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in fitted.weights.items()))
    learned = replace(current, rerank_features=tuple(fitted.weights.items()))
    reports = [
        evaluate_questions(searcher, questions)["summary"],
        evaluate_questions(Searcher(searcher.index, searcher.embedder, learned), questions)[
            "summary"
        ],
    ]
    click.echo(f"{'split':<12} {'n':>4}  {'hit@1 now':>9} {'learned':>8}  "
               f"{'hit@3 now':>9} {'learned':>8}")
    for name, row in reports[0].items():
        new = reports[1][name]
        click.echo(f"{name:<12} {row['answerable']:>4}  {_share(row['hit@1']):>9} "
                   f"{_share(new['hit@1']):>8}  {_share(row['hit@3']):>9} "
                   f"{_share(new['hit@3']):>8}")
    if write:
        path = update_corpus_search_settings(corpus_dir, {"rerank_features": fitted.weights})
        _say(f"Wrote the weights to {path}")


@eval_command.command("diff")
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="The diff as JSON.")
@click.option("--fail-on-worse", is_flag=True, help="Exit 1 when any question got worse.")
@translate_errors
def diff_command(old: Path, new: Path, as_json: bool, fail_on_worse: bool) -> None:
    """What got better and worse, question by question, between two question-set reports."""
    from qa.report_diff import diff_reports

    diff = diff_reports(_read_report(old), _read_report(new))
    click.echo(json.dumps(diff, indent=2, ensure_ascii=False) if as_json else diff_text(diff))
    if fail_on_worse and diff["worse"]:
        sys.exit(1)


def diff_text(diff: Mapping[str, Any]) -> str:
    """Readable diff: the questions that changed, then the headline figures before and after."""
    lines = []
    for label in ("better", "worse"):
        lines.append(f"{label.capitalize()} ({len(diff[label])}):")
        for change in diff[label]:
            lines.append(f"  {change['id']:<8} {change['before']:>10} -> {change['after']:<10} "
                         f"{change['question']}")
    lines.append(f"Unchanged: {diff['unchanged']}")
    for key in ("only_before", "only_after"):
        if diff[key]:
            lines.append(f"{key.replace('_', ' ').capitalize()}: {', '.join(map(str, diff[key]))}")
    before, after = diff.get("summary_before") or {}, diff.get("summary_after") or {}
    for name in ("hit@1", "hit@5", "mrr@5", "off_topic_abstained", "near_domain_abstained",
                 "false_abstention"):
        if name in before and name in after:
            lines.append(f"  {name:<22} {_share(before[name])} -> {_share(after[name])}")
    return "\n".join(lines)


def _share(value: float | None, count: int | None = None) -> str:
    """A share to three decimals ("-" when there was nothing to count), with its count."""
    text = "-" if value is None else f"{value:.3f}"
    return f"{text} ({count})" if count is not None else text


def _read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not a JSON report (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a JSON report")
    return data


def _write_report(path: Path | None, report: Mapping[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _say(f"Wrote the report to {path}")


main.add_command(eval_command)
