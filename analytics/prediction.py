"""The predictive score (SPEC §14): each lead's probability of being won, and why.

A logistic regression (scikit-learn) is trained nightly on the leads whose outcome is known
(their last `win`, or `lose`, `reject`, `disqualify`, `is_disqualify`, in the history read). Its
features are the lead's attributes (industry, company-size band, title seniority, source,
country, free-mail: one column per value seen often enough) and its engagement (per common event
type, `ln(1 + the events of that type in the 90 days before)`), taken at the lead's first MQL
(or TQL) moment: what the lead looked like when marketing's definition judged it, never what
sales did with it afterwards. The most recent fifth of the outcomes is held out: the model is
fitted on the older ones, and its AUC and calibration on the held-out ones are what the COO
sees. With fewer than `MIN_WINS` wins there is no model.

A model is stored as its coefficients (`WinModel`), so scoring is SQL: one statement computes
the features of a set of leads as of now and writes `1 / (1 + exp(-logit))` into their score
rows (`LeadScore.win_probability`, with the model's version). The rescore of a lead does it for
that lead; after training, every lead is scored in chunks. The explanation of one lead reads the
same features and gives each one's share: the probability minus what it would be without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Max, Min, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.advisor import ATTRIBUTES, OUTCOMES, wilson
from analytics.models import WinModel
from leads.choices import LeadState, TransitionName
from leads.models import Lead, LeadScore, LeadTransition

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MIN_WINS = 50
WINDOW_DAYS = 90  # the engagement features' window before the as-of moment
HOLDOUT_SHARE = 0.2  # the most recent outcomes held out of the fit
MIN_CATEGORY = 5  # training leads a value needs to be a feature of its own
MAX_EVENT_TYPES = 12  # the most common event types are features
MAX_ROWS = 200_000  # a larger history is read every k-th lead (by id): enough for ~40 weights
TOP_FEATURES = 3
CATEGORIES = ("industry", "company_size", "title_seniority", "source", "country", "free_mail")
CALIBRATION_BANDS = 10
FETCH = 10_000
TRAINING = "win_model_training"  # temporary: the training rows' features
OUTCOMES_TABLE = "win_model_outcomes"  # temporary: the closed leads


@dataclass(frozen=True)
class Factor:
    """One feature's share of a lead's probability."""

    feature: str  # "industry" or "events"
    value: str  # the attribute's value or the event type
    count: int | None  # the events counted (events only)
    contribution: float

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "value": self.value, "count": self.count,
                "contribution": round(self.contribution, 4)}  # fmt: skip


# --- the features, as SQL ------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _attribute_select(members: str, vendor: str) -> tuple[str, tuple[Any, ...]]:
    """SELECT id, a0..a5 (the category values) of the leads whose ids `members` selects.
    Compiled once per process (building the expressions costs more than running them for one
    lead)."""
    columns = {
        f"a{i}": Coalesce(ATTRIBUTES[name], Value(""), output_field=CharField())
        for i, name in enumerate(CATEGORIES)
    }
    values = (
        Lead.objects.filter(pk__in=RawSQL(members, []))  # noqa: S611 - SQL from code
        .order_by()
        .annotate(**columns)
        .values("id", *columns)
    )
    sql, params = values.query.sql_with_params()
    return sql, tuple(params)


def _window_join() -> str:
    """Events `ev` of lead `p` in the `WINDOW_DAYS` days up to `p.t`."""
    if connection.vendor == "postgresql":
        return (
            "ev.lead_id = p.lead_id AND ev.occurred_at <= p.t "
            f"AND ev.occurred_at > p.t - INTERVAL '{WINDOW_DAYS} days'"
        )
    return (
        "ev.lead_id = p.lead_id AND julianday(ev.occurred_at) <= julianday(p.t) "
        f"AND julianday(ev.occurred_at) > julianday(p.t) - {WINDOW_DAYS}"
    )


def features_sql(
    population: str, params: list[Any], types: list[str], extra: tuple[str, ...] = ()
) -> tuple[str, list[Any]]:
    """SELECT lead_id, *extra, a0..a5, n0..nk of the leads `population` selects (its columns:
    lead_id, t (the as-of moment), *extra): their category values and their events of each type
    in the window before `t`."""
    counts = "".join(
        f", SUM(CASE WHEN ev.type = %s THEN 1 ELSE 0 END) AS n{i}" for i in range(len(types))
    )
    attributes, attribute_params = _attribute_select("SELECT lead_id FROM p", connection.vendor)
    cats = "".join(f", c.a{i}" for i in range(len(CATEGORIES)))
    ns = "".join(f", COALESCE(e.n{i}, 0) AS n{i}" for i in range(len(types)))
    keep = "".join(f", p.{name}" for name in extra)
    events = (
        f"SELECT p.lead_id{counts} FROM p JOIN leads_event ev ON {_window_join()} "  # noqa: S608
        "GROUP BY p.lead_id"
        if types
        else "SELECT p.lead_id FROM p WHERE 1 = 0"
    )
    sql = (
        f"WITH p AS ({population}), c AS ({attributes}), e AS ({events}) "  # noqa: S608
        f"SELECT p.lead_id{keep}{cats}{ns} FROM p JOIN c ON c.id = p.lead_id "
        "LEFT JOIN e ON e.lead_id = p.lead_id"
    )
    return sql, [*params, *attribute_params, *types]


def logit_sql(coefficients: dict[str, Any]) -> tuple[str, list[Any]]:
    """The model's logit over a row of `features_sql` (`f`), as SQL."""
    terms, params = ["%s"], [float(coefficients["intercept"])]
    for i, name in enumerate(CATEGORIES):
        weights = [c for c in coefficients["categories"] if c["attribute"] == name]
        if weights:
            terms.append(f"(CASE f.a{i} " + "WHEN %s THEN %s " * len(weights) + "ELSE 0.0 END)")
            for c in weights:
                params += [c["value"], float(c["weight"])]
    for i, e in enumerate(coefficients["events"]):
        terms.append(f"(%s * ln(1.0 + f.n{i}))")
        params.append(float(e["weight"]))
    return " + ".join(terms), params


def _types(model: WinModel) -> list[str]:
    return [e["type"] for e in model.coefficients["events"]]


def _now_population(lead_filter: str) -> str:
    """The leads of `lead_filter` (on `{col}`), as of the parameter given first."""
    t = "CAST(%s AS timestamptz)" if connection.vendor == "postgresql" else "%s"
    return (
        f"SELECT l.id AS lead_id, {t} AS t FROM {Lead._meta.db_table} l "  # noqa: S608
        f"WHERE {lead_filter.format(col='l.id')}"
    )


# --- scoring ------------------------------------------------------------------------------------


_cache: dict[str, WinModel | None] = {}


def active_model() -> WinModel | None:
    """The model in use: the latest training, if it made one."""
    # One indexed row read per call (every rescore asks): plain SQL, no model instance.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, status, trained_at FROM {WinModel._meta.db_table} "  # noqa: S608
            "ORDER BY id DESC LIMIT 1"
        )
        latest = cursor.fetchone()
    if latest is None or latest[1] != WinModel.Status.TRAINED:
        return None
    key = f"{latest[0]}:{latest[2]}"
    if key not in _cache:
        _cache.clear()
        _cache[key] = WinModel.objects.get(pk=latest[0])
    return _cache[key]


def _score_update(
    model: WinModel, lead_filter: str, filter_params: list[Any], now: datetime
) -> int:
    """Write the model's probability into the score rows of the leads of `lead_filter`."""
    population = _now_population(lead_filter)
    source, params = features_sql(population, [now, *filter_params], _types(model))
    logit, logit_params = logit_sql(model.coefficients)
    table = LeadScore._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET win_probability = s.p, win_model = %s "  # noqa: S608
            f"FROM (SELECT f.lead_id, 1.0 / (1.0 + exp(-({logit}))) AS p FROM ({source}) f) s "
            f"WHERE t.lead_id = s.lead_id AND {lead_filter.format(col='t.lead_id')} "
            # Unchanged rows are not written again.
            "AND (t.win_probability IS DISTINCT FROM s.p OR t.win_model IS DISTINCT FROM %s)",
            [model.pk, *logit_params, *params, *filter_params, model.pk],
        )
        return int(cursor.rowcount)


def rescore(*, ids: list[int], now: datetime | None = None) -> int:
    """Score the given leads with the model in use (after their scores were recomputed, in the
    same transaction, so a `probability_at_least` criterion reads the new probability)."""
    model = active_model()
    if model is None or not ids:
        return 0
    lead_filter = "{col} IN (" + ", ".join(["%s"] * len(ids)) + ")"
    return _score_update(model, lead_filter, list(ids), now or timezone.now())


def score_all(
    *, chunk_size: int | None = None, after_chunk: Callable[[int, int], Any] | None = None
) -> int:
    """Score every lead with the model in use (or clear every probability when there is none),
    one chunk of ids per transaction; `after_chunk(lo, hi)` after each."""
    model = active_model()
    chunk_size = chunk_size or settings.SCORING_CHUNK_SIZE
    bounds = Lead.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return 0
    now, written = timezone.now(), 0
    for lo in range(bounds["lo"], bounds["hi"] + 1, chunk_size):
        hi = min(lo + chunk_size, bounds["hi"] + 1)
        with transaction.atomic():
            if model is None:
                written += LeadScore.objects.filter(
                    lead_id__gte=lo, lead_id__lt=hi, win_probability__isnull=False
                ).update(win_probability=None, win_model=None)
            else:
                written += _score_update(model, "{col} >= %s AND {col} < %s", [lo, hi], now)
        if after_chunk:
            after_chunk(lo, hi)
    return written


def explain(lead: Lead, *, now: datetime | None = None) -> dict[str, Any] | None:
    """The lead's probability as the model in use gives it now, and its top features by the
    share each has in it (the probability minus the probability without that feature)."""
    model = active_model()
    if model is None:
        return None
    types = _types(model)
    source, params = features_sql(_now_population("{col} = %s"), [now or timezone.now(), lead.pk],
                                  types)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(source, params)
        row = cursor.fetchone()
    if row is None:
        return None
    coefficients = model.coefficients
    active: list[tuple[str, str, int | None, float]] = []  # (feature, value, count, weight · x)
    values = row[1 : 1 + len(CATEGORIES)]
    for c in coefficients["categories"]:
        if values[CATEGORIES.index(c["attribute"])] == c["value"]:
            active.append((c["attribute"], c["value"], None, float(c["weight"])))
    for i, e in enumerate(coefficients["events"]):
        n = int(row[1 + len(CATEGORIES) + i] or 0)
        if n:
            active.append(("events", e["type"], n, float(e["weight"]) * math.log1p(n)))
    logit = float(coefficients["intercept"]) + sum(term for *_, term in active)
    p = _sigmoid(logit)
    factors = [Factor(f, v, n, p - _sigmoid(logit - term)) for f, v, n, term in active]
    factors.sort(key=lambda f: (-abs(f.contribution), f.feature, f.value))
    return {
        "probability": round(p, 4),
        "model": model.pk,
        "factors": [f.as_dict() for f in factors[:TOP_FEATURES]],
    }


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# --- training -----------------------------------------------------------------------------------


def _outcomes_sql(since: datetime, until: datetime) -> tuple[str, list[Any]]:
    """The closed leads: lead_id, t (the first MQL or TQL moment, else the outcome's), won,
    closed_at."""
    history = LeadTransition._meta.db_table
    outcomes = ", ".join(f"'{t}'" for t in OUTCOMES)
    sql = (
        "SELECT o.lead_id, COALESCE((SELECT MIN(r.occurred_at) "  # noqa: S608
        f"FROM {history} r WHERE r.lead_id = o.lead_id AND r.to_state IN (%s, %s) "
        "AND r.occurred_at <= o.closed_at), o.closed_at) AS t, "
        f"CASE WHEN o.transition = '{TransitionName.WIN}' THEN 1 ELSE 0 END AS won, o.closed_at "
        "FROM (SELECT h.lead_id, h.transition, h.occurred_at AS closed_at, ROW_NUMBER() OVER "
        "(PARTITION BY h.lead_id ORDER BY h.occurred_at DESC, h.id DESC) AS n "
        f"FROM {history} h WHERE h.transition IN ({outcomes}) "
        "AND h.occurred_at >= %s AND h.occurred_at < %s) o WHERE o.n = 1"
    )
    return sql, [LeadState.MQL, LeadState.TQL, since, until]


def _common_types(since: datetime) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type FROM leads_event WHERE occurred_at >= %s "
            "GROUP BY type ORDER BY COUNT(*) DESC, type LIMIT %s",
            [since, MAX_EVENT_TYPES],
        )
        return [r[0] for r in cursor.fetchall()]


def _fit(rows: Any, n: int, types: list[str]) -> dict[str, Any]:
    """Fit on the rows (lead_id, won, closed_at, a0..a5, n0..nk) read from a cursor: the older
    outcomes fitted, the newest `HOLDOUT_SHARE` held out. Columns: one per category value seen
    `MIN_CATEGORY` times among the fitted leads, then one per event type."""
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score

    k = len(types)
    won = np.zeros(n, dtype=np.int8)
    closed = np.zeros(n, dtype=np.float64)
    counts = np.zeros((n, k), dtype=np.float32)
    vocab: dict[tuple[int, str], int] = {}
    codes = np.zeros((n, len(CATEGORIES)), dtype=np.int32)
    i = 0
    for batch in iter(lambda: rows.fetchmany(FETCH), []):
        for row in batch:
            if i >= n:
                break
            won[i] = row[1]
            closed[i] = _ts(row[2])
            for j in range(len(CATEGORIES)):
                codes[i, j] = vocab.setdefault((j, row[3 + j] or ""), len(vocab))
            counts[i] = row[3 + len(CATEGORIES) :]
            i += 1
    n = i
    won, closed, counts, codes = won[:n], closed[:n], counts[:n], codes[:n]
    order = np.argsort(closed, kind="stable")
    cut = closed[order[int(n * (1 - HOLDOUT_SHARE))]] if n else 0.0
    held = closed >= cut
    if held.all() or not held.any():
        held = np.zeros(n, dtype=bool)
        held[order[int(n * (1 - HOLDOUT_SHARE)) :]] = True
    fit_rows = ~held
    # The category columns: values seen often enough among the fitted leads.
    seen = np.bincount(codes[fit_rows].ravel(), minlength=len(vocab))
    names = {code: key for key, code in vocab.items()}
    kept = [c for c in range(len(vocab)) if seen[c] >= MIN_CATEGORY and names[c][1] != ""]
    column = np.full(len(vocab), -1, dtype=np.int32)
    column[kept] = np.arange(len(kept), dtype=np.int32)
    cols = column[codes]
    present = cols >= 0
    one_hot = sparse.csr_matrix(
        (np.ones(int(present.sum()), dtype=np.float64),
         (np.nonzero(present)[0], cols[present])),
        shape=(n, len(kept)),
    )  # fmt: skip
    x = sparse.hstack([one_hot, sparse.csr_matrix(np.log1p(counts.astype(np.float64)))]).tocsr()
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x[fit_rows], won[fit_rows])
    weights = model.coef_[0]
    result: dict[str, Any] = {
        "coefficients": {
            "intercept": float(model.intercept_[0]),
            "window_days": WINDOW_DAYS,
            "categories": [
                {"attribute": CATEGORIES[names[c][0]], "value": names[c][1],
                 "weight": round(float(weights[column[c]]), 6)}
                for c in kept
            ],
            "events": [{"type": t, "weight": round(float(weights[len(kept) + j]), 6)}
                       for j, t in enumerate(types)],
        },
        "train_leads": int(fit_rows.sum()),
        "holdout_leads": int(held.sum()),
        "holdout_wins": int(won[held].sum()),
        "holdout_from": float(closed[held].min()) if held.any() else None,
    }  # fmt: skip
    # The evaluation uses the stored (rounded) weights, as scoring will.
    rounded = np.array([c["weight"] for c in result["coefficients"]["categories"]]
                       + [e["weight"] for e in result["coefficients"]["events"]])  # fmt: skip
    logits = x[held] @ rounded + result["coefficients"]["intercept"]
    predicted = 1.0 / (1.0 + np.exp(-logits))
    truth = won[held]
    if held.any() and 0 < truth.sum() < len(truth):
        result["auc"] = float(roc_auc_score(truth, predicted))
    if held.any():
        result["brier"] = float(brier_score_loss(truth, predicted))
        result["calibration"] = _calibration(predicted, truth)
    return result


def _ts(value: Any) -> float:
    """A moment read by a raw query as POSIX seconds (SQLite gives naive UTC, or text)."""
    from django.utils.dateparse import parse_datetime

    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    assert parsed is not None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _calibration(predicted: Any, truth: Any) -> list[dict[str, Any]]:
    """Per band of the predicted probability (tenths): the held-out leads, their mean
    prediction and their actual win rate with its 95% interval."""
    import numpy as np

    band = np.minimum((predicted * CALIBRATION_BANDS).astype(int), CALIBRATION_BANDS - 1)
    rows = []
    for b in range(CALIBRATION_BANDS):
        inside = band == b
        n = int(inside.sum())
        if not n:
            continue
        won = int(truth[inside].sum())
        low, high = wilson(won, n) or (0.0, 0.0)
        rows.append({
            "low": b / CALIBRATION_BANDS, "high": (b + 1) / CALIBRATION_BANDS, "leads": n,
            "predicted": round(float(predicted[inside].mean()), 4), "won": won,
            "actual": round(won / n, 4), "interval": [round(low, 4), round(high, 4)],
        })  # fmt: skip
    return rows


def train(*, now: datetime | None = None) -> WinModel:
    """Train on the outcomes of the last `WIN_MODEL_HISTORY_DAYS` days and store the model (or
    that there is none: fewer than `MIN_WINS` wins)."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.WIN_MODEL_HISTORY_DAYS)
    pg = connection.vendor == "postgresql"
    drop = "" if pg else f"DROP TABLE IF EXISTS {OUTCOMES_TABLE}; DROP TABLE IF EXISTS {TRAINING}"
    with transaction.atomic():
        try:
            fitted = _train_rows(since, now, pg)
        finally:
            if drop:
                with connection.cursor() as cursor:
                    for statement in drop.split("; "):
                        cursor.execute(statement)
    record = {"trained_at": now, "history_from": since, "leads": fitted.pop("leads"),
              "wins": fitted.pop("wins")}  # fmt: skip
    if not fitted:
        return WinModel.objects.create(status=WinModel.Status.NOT_ENOUGH_HISTORY, **record)
    holdout_from = fitted.pop("holdout_from")
    return WinModel.objects.create(
        status=WinModel.Status.TRAINED,
        holdout_from=(datetime.fromtimestamp(holdout_from, tz=UTC) if holdout_from else None),
        **record,
        **fitted,
    )


def _train_rows(since: datetime, now: datetime, pg: bool) -> dict[str, Any]:
    """In the caller's transaction: the closed leads into a temporary table (analysed, so the
    features' joins are planned on its real size), then their features into another, planned
    as a whole (in parallel) before a server-side cursor streams them into the fit. Returns the
    counts, and the fit's results if there are enough wins."""
    temporary = f"TEMPORARY TABLE {{}}{' ON COMMIT DROP' if pg else ''} AS "
    outcomes, params = _outcomes_sql(since, now)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {OUTCOMES_TABLE}")
        cursor.execute("CREATE " + temporary.format(OUTCOMES_TABLE) + outcomes, params)
        if pg:
            cursor.execute(f"ANALYZE {OUTCOMES_TABLE}")
        cursor.execute(f"SELECT COUNT(*), SUM(won) FROM {OUTCOMES_TABLE}")  # noqa: S608
        leads, wins = (int(v or 0) for v in cursor.fetchone())
    if wins < MIN_WINS or wins == leads:
        return {"leads": leads, "wins": wins}
    # Above `MAX_ROWS`, every `stride`-th lead by id (and the table analysed again).
    stride = max(1, math.ceil(leads / MAX_ROWS))
    if stride > 1:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {OUTCOMES_TABLE} "  # noqa: S608
                f"WHERE lead_id - (lead_id / {stride}) * {stride} <> 0"
            )
            if pg:
                cursor.execute(f"ANALYZE {OUTCOMES_TABLE}")
    types = _common_types(since)
    source, params = features_sql(
        f"SELECT lead_id, t, won, closed_at FROM {OUTCOMES_TABLE}",  # noqa: S608
        [], types, extra=("won", "closed_at"),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TRAINING}")
        cursor.execute("CREATE " + temporary.format(TRAINING) + source, params)
        cursor.execute(f"SELECT COUNT(*) FROM {TRAINING}")  # noqa: S608
        rows = int(cursor.fetchone()[0])
    with connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT * FROM {TRAINING}")  # noqa: S608
        return {"leads": leads, "wins": wins, **_fit(cursor, rows, types)}


def train_and_score(*, after_chunk: Callable[[int, int], Any] | None = None) -> dict[str, Any]:
    """The nightly work: train, then score every lead with the new model. `scored` is every
    lead's score row; `changed`, those whose stored probability the new model changed."""
    model = train()
    changed = score_all(after_chunk=after_chunk)
    return {"model": model.pk, "status": str(model.status), "auc": model.auc,
            "scored": LeadScore.objects.count(), "changed": changed}  # fmt: skip


def iter_model_features(model: WinModel) -> Iterator[dict[str, Any]]:
    """The model's weights, largest first (the COO's page)."""
    rows = [{"feature": c["attribute"], "value": c["value"], "weight": c["weight"]}
            for c in model.coefficients.get("categories", [])]  # fmt: skip
    rows += [{"feature": "events", "value": e["type"], "weight": e["weight"]}
             for e in model.coefficients.get("events", [])]  # fmt: skip
    yield from sorted(rows, key=lambda r: (-abs(r["weight"]), r["feature"], r["value"]))


def model_card() -> dict[str, Any]:
    """What the COO sees of the model in use: its training, its held-out AUC and calibration,
    its weights; or, without one, why not (`status`: `none` before any training)."""
    latest = WinModel.objects.order_by("-id").first()
    if latest is None:
        return {"status": "none", "min_wins": MIN_WINS}
    card: dict[str, Any] = {
        "status": latest.status, "version": latest.pk, "trained_at": latest.trained_at,
        "min_wins": MIN_WINS, "leads": latest.leads, "wins": latest.wins,
        "history_from": latest.history_from,
    }  # fmt: skip
    if latest.status == WinModel.Status.TRAINED:
        card |= {
            "train_leads": latest.train_leads, "holdout_leads": latest.holdout_leads,
            "holdout_wins": latest.holdout_wins, "holdout_from": latest.holdout_from,
            "auc": latest.auc, "brier": latest.brier, "calibration": latest.calibration,
            "weights": list(iter_model_features(latest)),
            "window_days": latest.coefficients.get("window_days", WINDOW_DAYS),
        }  # fmt: skip
    return card


def win_model_start(*, actor: Any) -> Any:
    """Train now (and score every lead), as a job."""
    from leadflow.jobs import job_start

    return job_start(kind="win_model", params={"reason": "asked"}, actor=actor)
