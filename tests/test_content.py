"""The shipped question bank: the promises a user practising for interviews relies on.

These tests read the decks exactly as the app does (``load_library()``), so a broken deck, a
preset the simulations would reject, or a wrong worked answer fails here before it ships.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import pytest

from questions.loader import Library, load_library
from questions.model import Question, QuestionKind
from sims import registry

CORE_TOPICS = ("batch-size", "epochs", "learning-rate", "tuning", "diagnostics")
PLANNED_EXPERIMENTS = (
    "batch-size-sweep",
    "epochs",
    "steps-to-target",
    "lr-scaling",
    "lr-finder",
    "grid-search",
    "throughput",
    "noise-scale",
)
WORDS = (60, 250)

# Progress, review schedules and attempt history are keyed by question id, so these ids must
# never disappear or be renamed once shipped.
STABLE_IDS = {
    "bs-definition",
    "bs-gd-variants",
    "bs-gradient-noise",
    "bs-memory",
    "bs-hardware-throughput",
    "bs-speed-units",
    "bs-generalization-gap",
    "bs-typical-sizes",
    "bs-critical-batch",
    "bs-steps-regimes",
    "ep-definition",
    "ep-underfit-overfit",
    "ep-early-stopping",
    "ep-dataset-size",
    "lr-batch-scaling-rule",
    "lr-warmup",
    "lr-adam-sqrt",
    "lr-grad-accumulation",
    "tune-grid-vs-random",
    "tune-lr-range-test",
    "tune-cross-validation",
    "diag-overfitting-curve",
    "diag-lr-too-high",
    "num-updates-3-epochs",
}

# Worked answers recomputed from the formula the model answer teaches, next to the figures the
# prompt must state (so the recomputation is tied to what the user is actually asked).
NUMERIC_FORMULAS: dict[str, tuple[float, tuple[str, ...]]] = {
    "num-updates-3-epochs": (3 * math.ceil(50_000 / 128), ("50,000", "128", "3 epochs")),
    "num-updates-drop-last": (10 * math.floor(60_000 / 256), ("60,000", "256", "10 epochs")),
    "num-epochs-from-steps": (10_000 * 64 / 40_000, ("10,000", "64", "40,000")),
    "num-linear-scaling-lr": (0.1 * 2048 / 256, ("0.1", "256", "2,048")),
    "num-sqrt-scaling-adam": (0.0003 * math.sqrt(512 / 32), ("0.0003", "32", "512")),
    "num-grad-accum-steps": (256 / (4 * 16), ("4 GPUs", "16", "256")),
    "num-warmup-updates": (5 * math.ceil(1_281_167 / 8192), ("1,281,167", "8,192", "5-epoch")),
    "num-grid-search-runs": (4 * 5 * 5, ("{32, 64, 128, 256}", "0.3}", "5-fold")),
    "num-noise-reduction": (math.sqrt(512 / 32), ("32", "512")),
    "num-training-hours": (90 * 1_200_000 / 2500 / 3600, ("2,500", "90 epochs", "1.2 million")),
    "num-early-stopping-epoch": (7 + 3, ("patience 3", "epoch 7")),
    # A scheduler stepped per update: divisions by gamma in one epoch of ceil(N / B) calls.
    "num-scheduler-per-update": (
        math.floor(math.ceil(50_000 / 128) / 30),
        ("step_size=30", "50,000", "128"),
    ),
    "num-cosine-lr": (
        0.0 + (0.1 - 0.0) * (1 + math.cos(math.pi * 2_500 / 10_000)) / 2,
        ("from 0.1 to 0", "10,000 updates", "update 2,500"),
    ),
    # AdamW multiplies each weight by (1 - lr * wd) per update.
    "num-adamw-shrink": (
        (1 - 0.001 * 0.1) ** 10_000,
        ("lr = 0.001", "weight_decay = 0.1", "10,000 updates"),
    ),
    # Same effective rate lr / (1 - momentum) at the new momentum.
    "num-momentum-effective-lr": (
        0.05 / (1 - 0.9) * (1 - 0.99),
        ("learning rate 0.05", "momentum 0.9", "momentum 0.99"),
    ),
    # Tokens per step = micro-batch x sequence length x ranks x accumulation steps.
    "num-tokens-per-step": (
        4 * 2048 * 64 * 8,
        ("4 sequences", "2,048 tokens", "64 data-parallel GPUs", "8 gradient-accumulation"),
    ),
    # Global batch = GPUs x per-GPU batch; linear rule on the global batch.
    "num-dp-lr-more-gpus": (
        0.1 * (32 * 32) / (8 * 32),
        ("8 GPUs", "32 images per GPU", "learning rate 0.1", "32 GPUs"),
    ),
    # Mixed-precision Adam: 2 + 2 (16-bit weights, grads) + 4 (fp32 master) + 4 + 4 (moments).
    "num-bytes-per-param": (
        7e9 * (2 + 2 + 4 + 4 + 4) / 1e9,
        ("7-billion", "16-bit weights and gradients", "fp32 master", "two fp32 Adam", "10^9"),
    ),
    "num-chinchilla-epochs": (
        20 * 3e9 / 15e9,
        ("3-billion", "20 training tokens per parameter", "15 billion unique tokens"),
    ),
}

# Units a speed claim must be stated in (the most common confusion about batch size).
SPEED_UNITS = re.compile(
    r"per (update|step|example|epoch|second)|examples per second|wall-clock"
    r"|in (steps|epochs|seconds)",
    re.IGNORECASE,
)
SPEED_CLAIM = re.compile(r"\b(faster|slower|speeds? up)\b", re.IGNORECASE)

# The error in the reference documents that the bank must not repeat as advice.
WRONG_SCALING = re.compile(
    r"(larger|bigger) batch(es| size)? (needs?|requires?|calls? for|means?) an? "
    r"(smaller|lower) learning rate",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="module")
def questions(library: Library) -> list[Question]:
    return list(library.questions.values())


def test_shipped_decks_load_without_errors(library: Library) -> None:
    assert [str(e) for e in library.errors] == []
    assert all(deck.builtin for deck in library.decks)


def test_bank_has_enough_questions_and_numeric_drills(questions: list[Question]) -> None:
    assert len(questions) >= 40
    numeric = [q for q in questions if q.kind is QuestionKind.NUMERIC]
    assert len(numeric) >= 8


def test_every_core_topic_is_covered(questions: list[Question]) -> None:
    per_topic = Counter(q.topic for q in questions)
    thin = {t: per_topic[t] for t in CORE_TOPICS if per_topic[t] < 5}
    assert thin == {}, f"topics with fewer than 5 questions: {thin}"


def test_ids_that_progress_depends_on_still_exist(library: Library) -> None:
    assert sorted(STABLE_IDS - set(library.questions)) == []


def test_model_answers_are_60_to_250_words(questions: list[Question]) -> None:
    low, high = WORDS
    wrong = {q.id: n for q in questions if not low <= (n := len(q.model_answer.split())) <= high}
    assert wrong == {}, f"model answers outside {low}-{high} words: {wrong}"


def test_open_questions_have_one_or_two_must_have_points(questions: list[Question]) -> None:
    wrong = {
        q.id: sum(p.must_have for p in q.rubric)
        for q in questions
        if q.kind is QuestionKind.OPEN and not 1 <= sum(p.must_have for p in q.rubric) <= 2
    }
    assert wrong == {}


def test_every_question_cites_a_source(questions: list[Question]) -> None:
    assert [q.id for q in questions if not q.references] == []


def test_at_least_half_the_questions_launch_a_simulation(questions: list[Question]) -> None:
    with_preset = [q for q in questions if q.simulation is not None]
    assert 2 * len(with_preset) >= len(questions)
    assert [q.id for q in with_preset if not q.simulation or not q.simulation.look_for] == []


def test_every_planned_experiment_is_linked_from_a_question(questions: list[Question]) -> None:
    linked = {q.simulation.experiment for q in questions if q.simulation}
    assert sorted(set(PLANNED_EXPERIMENTS) - linked) == []


def test_presets_name_registered_experiments_with_valid_params(
    questions: list[Question],
) -> None:
    known = {e.name for e in registry.list_experiments()}
    unknown = {
        q.id: q.simulation.experiment
        for q in questions
        if q.simulation and q.simulation.experiment not in known
    }
    assert unknown == {}, f"presets naming experiments the registry does not have: {unknown}"
    checked = load_library(check_preset=registry.check_params)
    assert [str(e) for e in checked.errors] == []


def preset_work(params: dict[str, Any]) -> tuple[int, int]:
    """Upper bound on the updates and examples a preset trains for, over all its runs.

    ``params`` has the experiment's defaults filled in. Counts every example as training data
    (no validation split) and every repeat (learning rates, rules, optimizers, folds) as a
    full run, so it over-estimates rather than under-estimates. Not counted: the fixed
    comparison ladder that noise-scale adds when ``compare`` is on (about 10 s on 2 cores).
    """
    n = int(params.get("n_examples") or 0)
    batches = params.get("batch_sizes") or [
        params[key] for key in ("batch_size", "batch_small", "batch_big") if key in params
    ]
    repeats = max(1, int(params.get("folds") or 0))
    for key in ("lrs", "rules", "optimizers"):
        repeats *= len(params.get(key) or [None])
    epochs = int(params.get("epochs") or 0) + int(params.get("check_epochs") or 0)
    updates = examples = 0
    for batch in batches:
        per_run = epochs * math.ceil(n / batch)
        if params.get("max_updates"):
            per_run = min(per_run, params["max_updates"]) if per_run else params["max_updates"]
        per_run += int(params.get("num_steps") or 0) + int(params.get("steps") or 0)
        updates += repeats * per_run
        examples += repeats * per_run * batch
    return updates, examples


# A small MLP on 2 CPU cores does a few thousand updates (or about a million examples) per
# second; these caps keep every preset to seconds, not minutes.
MAX_UPDATES = 15_000
MAX_EXAMPLES = 2_000_000
MAX_GRID = 60  # batch sizes x learning rates in a steps-to-target search
MAX_UPDATES_PER_RUN = 5_000


def test_presets_stay_small_enough_for_a_laptop_cpu(questions: list[Question]) -> None:
    too_big = {}
    for q in questions:
        if q.simulation is None:
            continue
        params = registry.resolve_params(q.simulation.experiment, q.simulation.params_dict)
        if q.simulation.experiment == "steps-to-target":
            # It stops every run at the target and prunes runs that cannot win, so its cost
            # is bounded by the grid and the per-run cap, not by an epoch count.
            grid = len(params["batch_sizes"]) * len(params["lrs"])
            if grid > MAX_GRID or params["max_updates"] > MAX_UPDATES_PER_RUN:
                too_big[q.id] = (grid, params["max_updates"])
            continue
        updates, examples = preset_work(params)
        if updates > MAX_UPDATES or examples > MAX_EXAMPLES:
            too_big[q.id] = (updates, examples)
    assert too_big == {}, f"presets over {MAX_UPDATES} updates or {MAX_EXAMPLES} examples"


def test_learning_rate_and_batch_question_teaches_the_correct_rule(library: Library) -> None:
    question = library.questions["lr-batch-scaling-rule"]
    assert question.misconception is not None
    assert re.search(r"smaller learning rate", question.misconception.belief, re.IGNORECASE)
    answer = question.model_answer.lower()
    assert "linear" in answer and "square root" in answer and "warm-up" in answer
    cited = " ".join(question.references)
    assert "Goyal" in cited and "Malladi" in cited


def test_no_question_repeats_the_smaller_learning_rate_error(questions: list[Question]) -> None:
    offending = [
        q.id
        for q in questions
        if WRONG_SCALING.search(q.model_answer)
        or any(WRONG_SCALING.search(p.text) for p in q.rubric)
    ]
    assert offending == []


def test_known_misconceptions_are_taught(library: Library) -> None:
    # One question per misconception listed in the literature notes.
    for qid in (
        "lr-batch-scaling-rule",  # bigger batch needs a smaller learning rate
        "lr-adam-sqrt",  # Goyal et al. used square-root scaling
        "lr-grad-accumulation",  # accumulation keeps small-batch noise
        "bs-speed-units",  # a larger batch is always faster
        "ep-underfit-overfit",  # more epochs is always better
        "sched-why-decay",  # Adam needs no learning-rate schedule
        "sched-budget-tied",  # stopping a long cosine run halfway equals a shorter schedule
        "opt-adamw-vs-l2",  # weight_decay in Adam is the same as AdamW
        "scale-chinchilla-data",  # a language model must never see text twice
        "scale-dp-adding-gpus",  # adding GPUs needs no change to the hyperparameters
        "ep-random-labels",  # 100% training accuracy means the task was learned
    ):
        assert library.questions[qid].misconception is not None, qid


def test_speed_claims_name_their_unit(questions: list[Question]) -> None:
    vague = [
        q.id
        for q in questions
        if SPEED_CLAIM.search(q.model_answer) and not SPEED_UNITS.search(q.model_answer)
    ]
    assert vague == []


def test_numeric_answers_match_their_arithmetic(library: Library) -> None:
    numeric_ids = {q.id for q in library.questions.values() if q.kind is QuestionKind.NUMERIC}
    assert numeric_ids == set(NUMERIC_FORMULAS), "every numeric question needs a formula here"
    for qid, (expected, figures) in NUMERIC_FORMULAS.items():
        question = library.questions[qid]
        assert question.numeric is not None
        assert question.numeric.value == pytest.approx(expected), qid
        assert question.numeric.accepts(expected), qid
        missing = [f for f in figures if f not in question.prompt]
        assert missing == [], f"{qid}: prompt does not state {missing}"


def test_numeric_questions_have_units_and_tolerance_only_when_needed(
    questions: list[Question],
) -> None:
    for q in questions:
        if q.kind is not QuestionKind.NUMERIC:
            continue
        assert q.numeric is not None and q.numeric.unit, q.id
        if float(q.numeric.value).is_integer():
            assert q.numeric.tolerance == 0, f"{q.id}: integer answers need no tolerance"
        # A one-off slip (the usual mistake: forgetting the partial batch) must not pass.
        assert not q.numeric.accepts(q.numeric.value * 1.01 + 1), q.id
