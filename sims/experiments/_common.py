"""Parameters and wording shared by experiments (no torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sims.config import DATASETS, DIGITS_IMAGES, OPTIMIZERS, DataSpec, ModelSpec
from sims.params import Param

if TYPE_CHECKING:
    from sims.results import HistoryPoint, RunRecord


def data_params(
    *, dataset: str = "teacher", n_examples: int = 4000, label_noise: float = 0.0
) -> tuple[Param, ...]:
    return (
        Param(
            "dataset",
            "str",
            dataset,
            "teacher: Gaussian inputs labelled by a random network (20 features, 10 classes); "
            "spirals: 3 interleaved 2-D spirals; digits: 8x8 handwritten digits (real data)",
            choices=DATASETS,
        ),
        Param(
            "n_examples",
            "int",
            n_examples,
            f"examples in total, 20% held out for validation (digits has {DIGITS_IMAGES:,}; "
            "a larger number uses all of them)",
            min=100,
            max=200_000,
        ),
        Param(
            "label_noise",
            "float",
            label_noise,
            "share of TRAINING labels flipped to a wrong class (validation stays clean)",
            min=0.0,
            max=0.5,
        ),
    )


def model_params(*, hidden: int = 128, depth: int = 1) -> tuple[Param, ...]:
    return (
        Param(
            "model",
            "str",
            "mlp",
            "mlp: fully connected; cnn: small convolutional net (digits only)",
            choices=("mlp", "cnn"),
        ),
        Param("hidden", "int", hidden, "width of each hidden layer", min=4, max=4096),
        Param("depth", "int", depth, "hidden layers of the MLP", min=1, max=6),
    )


def optimizer_params(*, optimizer: str, auto_lr: dict[str, float]) -> tuple[Param, ...]:
    auto = ", ".join(f"{name} {lr:g}" for name, lr in auto_lr.items())
    return (
        Param(
            "optimizer",
            "str",
            optimizer,
            "sgd (momentum 0.9) or adam",
            choices=OPTIMIZERS,
        ),
        Param(
            "lr",
            "float",
            None,
            f"learning rate; default depends on the optimizer ({auto})",
            min=1e-6,
            max=100.0,
        ),
    )


def check_model(values: dict[str, Any]) -> list[str]:
    if values.get("model") == "cnn" and values.get("dataset") != "digits":
        return [
            f"model: 'cnn' needs image data; expected dataset = 'digits' "
            f"(got dataset = {values.get('dataset')!r}) or model = 'mlp'"
        ]
    return []


def learning_rate(values: dict[str, Any], auto_lr: dict[str, float]) -> float:
    lr = values.get("lr")
    return float(lr) if lr is not None else auto_lr[values["optimizer"]]


def data_spec(seed: int, values: dict[str, Any]) -> DataSpec:
    return DataSpec(
        name=values["dataset"],
        n_examples=values["n_examples"],
        label_noise=values["label_noise"],
        seed=seed,
    )


def model_spec(values: dict[str, Any]) -> ModelSpec:
    return ModelSpec(kind=values["model"], hidden=values["hidden"], depth=values["depth"])


def data_note(spec: DataSpec) -> list[str]:
    if spec.name == "digits" and spec.n_examples > DIGITS_IMAGES:
        return [f"The digits set has {DIGITS_IMAGES:,} images; all of them were used."]
    return []


def val_loss(point: HistoryPoint) -> float:
    """The validation loss of a point from a run that validates (every run but the tuning
    runs, which skip validation and are never passed here)."""
    if point.val_loss is None:
        raise ValueError(f"no validation loss at update {point.update}: the run skipped it")
    return point.val_loss


def val_acc(point: HistoryPoint) -> float:
    """The validation accuracy of a point from a run that validates (see :func:`val_loss`)."""
    if point.val_acc is None:
        raise ValueError(f"no validation accuracy at update {point.update}: the run skipped it")
    return point.val_acc


def first_reaching(run: RunRecord, target: float) -> HistoryPoint | None:
    """The first evaluation at which the validation loss was at or below ``target``."""
    for point in run.history:
        if point.val_loss is not None and point.val_loss <= target:
            return point
    return None


def loss(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def secs(x: float) -> str:
    if x < 0.1:
        return f"{1000 * x:.0f} ms"
    return f"{x:.2f} s" if x < 10 else f"{x:.0f} s"


def epochs_word(count: float) -> str:
    whole = float(count).is_integer()
    number = f"{int(count)}" if whole else f"{count:.1f}"
    return f"{number} epoch" + ("" if number == "1" else "s")


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def failed_runs(runs: list[RunRecord]) -> list[str]:
    """One observation per run that did not finish normally, with its reason."""
    lines = []
    for run in runs:
        if run.status == "diverged":
            lines.append(f"{run.label} (LR {run.lr:g}) diverged: {run.summary.reason}.")
        elif run.status == "oom":
            lines.append(f"{run.label} ran out of memory: {run.summary.reason}.")
    return lines
