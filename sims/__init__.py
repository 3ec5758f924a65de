"""Real, small PyTorch training simulations that stream their progress.

``sims`` never imports Textual, Rich or the app; ``import sims`` and the registry do not
import torch (only running a simulation does).

Public API
==========

Registry (no torch) -- ``sims.registry``::

    list_experiments() -> list[Experiment]      # .name .title .explanation .params
    get_experiment(name) -> Experiment           # ParamError if unknown
    check_params(name, params: dict) -> list[str]    # [] = valid; else one message per problem
    resolve_params(name, params) -> dict         # defaults filled in; raises ParamError
    parse_assignments(name, ["batch_sizes=16,64", ...]) -> dict   # CLI --set values
    register(Experiment(...))                    # how an experiment module adds itself

  Each ``Param`` has ``name, type ("int"|"float"|"str"|"bool"|"int_list"|"float_list"|
  "str_list"), default, help, min, max, choices`` and ``allowed()`` (what it accepts, in
  words). ``ParamError.messages`` lists every problem.

Running in the background (for the app) -- ``sims.runner``::

    runner = SimRunner(threads=None, quiet=True) # threads=None: half the cores left after one
                                                 # for the UI (>= 1, <= 4); quiet: child silent
    runner.start(name, params, seed=0, device="auto")   # validates first (ParamError)
    event = runner.poll(timeout=0.1)             # next event or None (None: until one comes)
    for event in runner.events(timeout=None): ...    # until ExperimentFinished / RunFailed
    runner.cancel()                              # child gone within 1 s; events that arrived
                                                 # whole remain; poll never blocks after it
    runner.running / runner.finished / runner.pid / runner.close()  (also a context manager)

  Safe to start inside a running Textual app (it restores the real stdout/stderr while
  starting; Textual issue #3593). A child that dies without a word, even mid-message, gives
  ``RunFailed``. Events arrive as ``run_experiment`` emits them; on the wire, run histories
  travel once (as ``RunProgress``) and the runner completes ``RunFinished.record`` and
  ``ExperimentFinished.result`` from them.

Running in this process -- ``sims.lab``::

    run_experiment(name, params, *, seed=0, device="auto", on_event=None, cancel=None)
        -> ExperimentResult                      # ParamError unless 0 <= seed < 2**63

Costs before running -- ``sims.estimate`` (torch only for the probe and GPU memory)::

    estimate_duration(name, params, *, device="cpu", threads=None, cost=None)
        -> DurationEstimate(seconds, updates, upper_bound)   # calibrates once (~0.5 s)
    estimate_memory(name, params) -> int         # bytes the largest run holds at once
    check_memory(name, params, device)           # ParamError if it cannot fit (also done
                                                 # by run_experiment)
    plan(name, params) -> list[PlannedRun]       # the runs it will train

Events -- ``sims.events`` (picklable dataclasses, in stream order)::

    ExperimentStarted(experiment, title, device, seed, params)
    RunStarted(label, index, config, device, updates_per_epoch, total_updates,
               train_examples, val_examples)
    RunProgress(HistoryPoint fields..., label=)  # every evaluation; the first at update 0
    RunTick(label, epoch, update, examples, seconds, total_updates)   # <= 4/s, no metrics
    RunFinished(label, status "ok"|"diverged"|"oom"|"cancelled", summary: RunSummary,
                record: RunRecord)
    RunFailed(reason, label, details)            # the experiment could not go on (crash)
    ExperimentFinished(result: ExperimentResult)

Results -- ``sims.results``: ``ExperimentResult(experiment, title, device, seed, params, runs:
list[RunRecord], observations: list[str], status, seconds, extras)`` with ``to_json()``
(JSON-ready dict, the ``--json`` layout), ``to_json_text()`` and ``from_json()``;
``RunRecord(label, status, batch_size, lr, epochs, updates_per_epoch, train_examples,
val_examples, config, history: list[HistoryPoint], summary: RunSummary)``.

Adding an experiment: a module in ``sims/experiments/`` (found automatically; names
starting with ``_`` are helpers, e.g. ``_common`` with shared parameters and wording) that
calls ``register(Experiment(name, title, explanation, params, run, check, order,
plan_runs))`` where ``plan_runs(params) -> list[PlannedRun]`` lists the runs it will train
(for estimates) and ``run(lab, params) -> Outcome(observations, extras)`` (``lab``: a
``sims.workbench.Lab``) trains through ``lab.train(label, TrainConfig(...), DataSpec(...),
ModelSpec(...), hooks=[...])`` -- the one training loop, ``sims.training.train`` -- and
imports torch only inside ``run``.
``TrainConfig`` (``sims.config``) covers batch size, epochs, LR, optimizer (sgd|adam),
momentum, weight decay, LR scaling rule and base batch, warm-up epochs, a geometric LR sweep
(``lr_end``), ``max_updates``, ``eval_every``, early stopping (``patience``, ``monitor``,
``early_stop``, ``restore_best``), ``target_loss``/``target_metric``/``stop_at_target``,
``divergence_factor``, ``track_train_acc`` and ``validate`` (false: evaluations skip
the validation set, ``val_loss``/``val_acc`` are ``None``; for runs judged by training
loss). A ``sims.training.TrainHook`` sees every update after the backward pass
(``after_backward(UpdateStep)``) and adds numbers to each evaluation (``report() -> dict``,
landing in ``HistoryPoint.extra``).
"""
