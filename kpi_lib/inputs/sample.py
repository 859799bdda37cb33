"""Seeded, vectorised generator of SYNTHETIC sample data for a West Mercia-like force.

The numbers are invented. They are calibrated to public magnitudes (../shared/data/README.md):
about 80,000 to 95,000 recorded crimes a year, charge rate rising from about 7.5% to 11%, 999 calls
answered within 10 s 70% to 90%, 101 within 30 s about 55%, confidence about 80%, victim
satisfaction 60% to 80%, and call and incident volumes of a force serving 1.3 million people.

It exercises the rules: seasonality; real shifts (a recording-practice change, the Home Office
"principal crime" rule for stalking and harassment from June 2023; a 999 call-handling
improvement from October 2023); small-number categories (rape and robbery charge rates);
outcomes not yet assigned for recent quarters; incidents crossing clock changes; survey weights;
carbon data only from 2022/23 (the indicator was still being developed); a VFM conclusion not yet
received for the latest year. The same seed gives byte-identical files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

SYNTHETIC_NOTE = "SYNTHETIC SAMPLE DATA - invented numbers for testing and demonstration only."
LOCAL_AREAS = {  # local authority -> population (approximate, for realistic weights only)
    "Herefordshire": 187_000, "Shropshire": 323_000, "Telford and Wrekin": 185_000,
    "Worcester": 103_000, "Wyre Forest": 101_000, "Wychavon": 130_000, "Redditch": 87_000,
    "Bromsgrove": 99_000, "Malvern Hills": 79_000,
}
# offence code -> (share of recorded crime, P(domestic abuse flag), base P(charge))
OFFENCES = {
    "8N": (0.105, 0.35, 0.10), "5D": (0.008, 0.25, 0.12), "8S": (0.004, 0.30, 0.08),
    "105A": (0.140, 0.35, 0.06), "8R": (0.085, 0.40, 0.06), "8L": (0.055, 0.40, 0.05),
    "1": (0.0002, 0.20, 0.80), "19C": (0.009, 0.35, 0.04), "19D": (0.003, 0.30, 0.04),
    "19F": (0.001, 0.05, 0.05), "20A": (0.012, 0.15, 0.05), "88E": (0.006, 0.05, 0.04),
    "34B": (0.0055, 0.03, 0.12), "34A": (0.0009, 0.01, 0.14),
    "28E": (0.030, 0.03, 0.05), "28F": (0.008, 0.03, 0.05), "30C": (0.018, 0.01, 0.04),
    "45": (0.033, 0.01, 0.02), "48": (0.012, 0.01, 0.04), "126": (0.006, 0.01, 0.02),
    "39": (0.008, 0.01, 0.03), "44": (0.010, 0.01, 0.02), "46": (0.075, 0.00, 0.20),
    "49": (0.085, 0.05, 0.03), "58C": (0.050, 0.15, 0.05), "58A": (0.040, 0.12, 0.05),
    "56B": (0.005, 0.10, 0.05), "92D": (0.030, 0.00, 0.30), "92A": (0.008, 0.00, 0.45),
    "10D": (0.007, 0.02, 0.30), "9A": (0.080, 0.20, 0.08), "66": (0.015, 0.05, 0.10),
    "99": (0.010, 0.05, 0.08), "86": (0.008, 0.05, 0.10),
}
STALKING_HARASSMENT = ("8R", "8L")
PRINCIPAL_CRIME_RULE = date(2023, 6, 1)   # recording-practice change (synthetic shift)
CALL_HANDLING_CHANGE = date(2023, 10, 1)  # 999 call-handling improvement (synthetic shift)
CHARGE_YEAR_FACTOR = {2019: 0.95, 2020: 0.92, 2021: 0.85, 2022: 0.86, 2023: 1.05, 2024: 1.28}


def _days(first_fy: int, last_fy: int) -> pd.DatetimeIndex:
    return pd.date_range(date(first_fy, 4, 1), date(last_fy + 1, 3, 31), freq="D")


def _season(days: pd.DatetimeIndex, amplitude: float, peak_month: int = 7) -> np.ndarray:
    return 1 + amplitude * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - (peak_month - 1) * 30.4 - 15) / 365.25)


def _random_times(rng: np.random.Generator, day_index: np.ndarray, days: pd.DatetimeIndex,
                  busy_hours: bool = True) -> pd.DatetimeIndex:
    """Local (Europe/London) times on the given days, as UTC instants; busier in the evening."""
    n = day_index.size
    if busy_hours:
        hour = (rng.normal(16, 5, n) % 24)
    else:
        hour = rng.uniform(0, 24, n)
    seconds = np.floor(hour * 3600).astype("int64")
    naive = days.to_numpy()[day_index] + seconds.astype("timedelta64[s]")
    local = pd.DatetimeIndex(naive).tz_localize("Europe/London", ambiguous=True, nonexistent="shift_forward")
    return local.tz_convert("UTC")


def _crimes_and_outcomes(rng, days, scale, extraction: date):
    codes = list(OFFENCES)
    share = np.array([OFFENCES[c][0] for c in codes])
    share = share / share.sum()
    per_year = 86_000 * scale
    trend = np.linspace(0.96, 1.06, len(days))
    lam = per_year / 365.25 * _season(days, 0.10) * trend
    n_day = rng.poisson(lam)
    day_idx = np.repeat(np.arange(len(days)), n_day)
    code_idx = rng.choice(len(codes), size=day_idx.size, p=share)
    recorded = days.to_numpy()[day_idx]
    # recording-practice change: principal crime rule removes about 30% of S&H records
    sh = np.isin(np.array(codes)[code_idx], STALKING_HARASSMENT)
    keep = ~(sh & (recorded >= np.datetime64(PRINCIPAL_CRIME_RULE)) & (rng.random(day_idx.size) < 0.30))
    day_idx, code_idx, recorded = day_idx[keep], code_idx[keep], recorded[keep]
    n = day_idx.size
    code = np.array(codes)[code_idx]
    da_p = np.array([OFFENCES[c][1] for c in codes])[code_idx]
    areas = list(LOCAL_AREAS)
    pop = np.array(list(LOCAL_AREAS.values()), dtype=float)
    crimes = pd.DataFrame({
        "crime_ref": [f"SYN-CR-{i:07d}" for i in range(1, n + 1)],
        "recorded_date": pd.DatetimeIndex(recorded).strftime("%Y-%m-%d"),
        "offence_code": code,
        "domestic_abuse": rng.random(n) < da_p,
        "local_area": np.array(areas)[rng.choice(len(areas), size=n, p=pop / pop.sum())],
    })
    # outcomes: charge probability by offence and year; others by fixed shares
    fy = pd.DatetimeIndex(recorded).year - (pd.DatetimeIndex(recorded).month < 4)
    year_factor = pd.Series(fy).map(CHARGE_YEAR_FACTOR).fillna(1.0).to_numpy()
    p_charge = np.array([OFFENCES[c][2] for c in codes])[code_idx] * year_factor
    u = rng.random(n)
    others = np.array(["2", "3", "4", "6", "7", "8", "10", "14", "15", "16", "18", "20", "21", "22"])
    other_p = np.array([.004, .012, .003, .003, .004, .045, .006, .22, .16, .15, .33, .01, .04, .013])
    other_p = other_p / other_p.sum()
    outcome = others[rng.choice(others.size, size=n, p=other_p)].astype(object)
    charged = u < p_charge
    outcome[charged] = np.where(rng.random(charged.sum()) < 0.03, "1A", "1")
    drugs = np.isin(code, ["92D"]) & ~charged & (rng.random(n) < 0.25)
    outcome[drugs] = "7"
    median_days = np.where(charged, 45.0, 25.0)
    median_days = np.where(np.isin(code, ["19C", "19D", "19F"]), median_days * 6, median_days)
    delay = np.ceil(rng.lognormal(np.log(median_days), 1.0)).astype("int64")
    out_date = recorded + delay.astype("timedelta64[D]")
    pending = out_date > np.datetime64(extraction)
    outcome[pending] = "0"
    outcomes = pd.DataFrame({
        "crime_ref": crimes["crime_ref"],
        "outcome_type": outcome.astype(str),
        "outcome_date": np.where(pending, "", pd.DatetimeIndex(out_date).strftime("%Y-%m-%d")),
    })
    return crimes, outcomes


def _calls(rng, days, scale):
    frames = []
    for line, per_year, abandon in (("999", 190_000, 0.012), ("101", 260_000, 0.11)):
        lam = per_year * scale / 365.25 * _season(days, 0.08)
        n_day = rng.poisson(lam)
        day_idx = np.repeat(np.arange(len(days)), n_day)
        n = day_idx.size
        received = _random_times(rng, day_idx, days)
        when = days.to_numpy()[day_idx]
        if line == "999":
            improved = when >= np.datetime64(CALL_HANDLING_CHANGE)
            p_fast = np.where(improved, 0.86, 0.74) - 0.04 * (_season(days, 1.0)[day_idx] - 1)
            fast = rng.random(n) < p_fast
            wait = np.where(fast, rng.uniform(1, 10, n), 10 + rng.exponential(25, n))
        else:
            fast = rng.random(n) < 0.60
            wait = np.where(fast, rng.uniform(3, 30, n), 30 + rng.exponential(240, n))
        abandoned = rng.random(n) < abandon * (1 + (wait > 60))
        answered = received + pd.to_timedelta(np.round(wait).astype("int64"), unit="s")
        frames.append(pd.DataFrame({
            "call_ref": [f"SYN-{line}-{i:07d}" for i in range(1, n + 1)],
            "line": line, "received_at": received,
            "answered_at": pd.Series(answered).where(~abandoned, pd.NaT).to_numpy(),
        }))
    return pd.concat(frames, ignore_index=True).sort_values(["received_at", "call_ref"],
                                                             ignore_index=True)


def _incidents(rng, days, scale):
    frames = []
    areas = list(LOCAL_AREAS)
    pop = np.array(list(LOCAL_AREAS.values()), dtype=float)
    for grade, per_year, median_min, p_unattended in ((1, 36_000, 12.5, 0.02), (2, 72_000, 70.0, 0.10),
                                                       (3, 55_000, 600.0, 0.35), (4, 25_000, 2000.0, 0.60)):
        lam = per_year * scale / 365.25 * _season(days, 0.12)
        n_day = rng.poisson(lam)
        day_idx = np.repeat(np.arange(len(days)), n_day)
        n = day_idx.size
        created = _random_times(rng, day_idx, days, busy_hours=False)
        fy = pd.DatetimeIndex(days.to_numpy()[day_idx]).year
        drift = 1 + 0.03 * (fy - 2019) * (grade == 2)  # grade 2 times lengthen slowly
        minutes = rng.lognormal(np.log(median_min * drift), 0.6 if grade == 1 else 0.9)
        unattended = rng.random(n) < p_unattended
        arrived = created + pd.to_timedelta(np.round(minutes * 60).astype("int64"), unit="s")
        resourced = ~unattended | (rng.random(n) < 0.5)
        frames.append(pd.DataFrame({
            "grade": grade, "created_at": created,
            "arrived_at": pd.Series(arrived).where(~unattended, pd.NaT).to_numpy(),
            "resourced": resourced,
            "local_area": np.array(areas)[rng.choice(len(areas), size=n, p=pop / pop.sum())],
        }))
    out = pd.concat(frames, ignore_index=True).sort_values(["created_at", "grade"], ignore_index=True)
    out.insert(0, "incident_ref", [f"SYN-INC-{i:08d}" for i in range(1, len(out) + 1)])
    return out


VICTIM_ANSWERS = ["Completely satisfied", "Very satisfied", "Fairly satisfied",
                  "Neither satisfied nor dissatisfied", "Fairly dissatisfied", "Very dissatisfied",
                  "Completely dissatisfied"]
CONFIDENCE_ANSWERS = ["Strongly agree", "Agree", "Neither agree nor disagree", "Disagree",
                      "Strongly disagree", "Don't know"]
VISIBILITY_ANSWERS = ["Daily", "At least weekly", "At least monthly", "Less often", "Never"]


def _surveys(rng, days, scale):
    areas = list(LOCAL_AREAS)
    pop = np.array(list(LOCAL_AREAS.values()), dtype=float)
    rows = []
    # victim survey: ~2,400 a year
    n_day = rng.poisson(2400 * max(scale, 0.2) / 365.25, len(days))
    idx = np.repeat(np.arange(len(days)), n_day)
    n = idx.size
    crime_type = np.array(["Burglary", "Vehicle crime", "Violent crime", "Hate crime"])[
        rng.choice(4, size=n, p=[0.3, 0.3, 0.3, 0.1])]
    base = {"Burglary": 0.78, "Vehicle crime": 0.66, "Violent crime": 0.68, "Hate crime": 0.62}
    p_sat = np.vectorize(base.get)(crime_type)
    sat = rng.random(n) < p_sat
    answer = np.where(sat, np.array(VICTIM_ANSWERS[:3])[rng.choice(3, n)],
                      np.array(VICTIM_ANSWERS[3:])[rng.choice(4, n, p=[.4, .25, .2, .15])])
    rows.append(pd.DataFrame({
        "survey": "victim", "respondent_ref": [f"SYN-V-{i:06d}" for i in range(1, n + 1)],
        "interview_date": days[idx].strftime("%Y-%m-%d"),
        "local_area": np.array(areas)[rng.choice(len(areas), size=n, p=pop / pop.sum())],
        "crime_type": crime_type, "question": "overall_satisfaction", "answer": answer,
        "weight": np.round(rng.uniform(0.6, 1.8, n), 3)}))
    # confidence survey: ~4,000 a year, two questions each
    n_day = rng.poisson(4000 * max(scale, 0.2) / 365.25, len(days))
    idx = np.repeat(np.arange(len(days)), n_day)
    n = idx.size
    refs = [f"SYN-C-{i:06d}" for i in range(1, n + 1)]
    area = np.array(areas)[rng.choice(len(areas), size=n, p=pop / pop.sum())]
    weight = np.round(rng.lognormal(0, 0.35, n), 3)
    year = days[idx].year.to_numpy()
    conf_yes = rng.random(n) < (0.82 - 0.01 * (year - 2019))
    conf = np.where(conf_yes, np.array(CONFIDENCE_ANSWERS[:2])[rng.choice(2, n, p=[.35, .65])],
                    np.array(CONFIDENCE_ANSWERS[2:])[rng.choice(4, n, p=[.5, .25, .15, .1])])
    vis_yes = rng.random(n) < 0.16
    vis = np.where(vis_yes, np.array(VISIBILITY_ANSWERS[:2])[rng.choice(2, n, p=[.3, .7])],
                   np.array(VISIBILITY_ANSWERS[2:])[rng.choice(3, n, p=[.3, .4, .3])])
    common = {"survey": "confidence", "respondent_ref": refs,
              "interview_date": days[idx].strftime("%Y-%m-%d"), "local_area": area,
              "crime_type": "", "weight": weight}
    rows.append(pd.DataFrame({**common, "question": "confidence_local_policing", "answer": conf}))
    rows.append(pd.DataFrame({**common, "question": "seen_officer_frequency", "answer": vis}))
    out = pd.concat(rows, ignore_index=True)
    return out[["survey", "respondent_ref", "interview_date", "local_area", "crime_type",
                "question", "answer", "weight"]]


def _finance(rng, first_fy, last_fy):
    rows, vfm = [], []
    for fy in range(first_fy, last_fy + 1):
        budget = round(230e6 * 1.04 ** (fy - first_fy), -3)
        target = round(4.0e6 + 0.5e6 * (fy - first_fy), -3)
        final_variance = rng.normal(-0.004, 0.006) if fy != 2022 else 0.011  # one overspend year
        delivered_share = min(1.0, rng.uniform(0.85, 1.05))
        for q in (1, 2, 3, 4):
            drift = final_variance * q / 4 + rng.normal(0, 0.002)
            rows.append({"financial_year": f"{fy}/{(fy + 1) % 100:02d}", "quarter": q,
                         "budget_gbp": budget, "forecast_outturn_gbp": round(budget * (1 + drift), -3),
                         "savings_target_gbp": target,
                         "savings_delivered_gbp": round(target * delivered_share * q / 4, -3)})
        if fy < last_fy:  # the latest year's auditor conclusion has not been received yet
            vfm.append({"financial_year": f"{fy}/{(fy + 1) % 100:02d}", "conclusion": "unqualified"})
    return pd.DataFrame(rows), pd.DataFrame(vfm)


def _carbon(rng, first_fy, last_fy):
    rows = []
    start = max(first_fy, 2022)  # indicator only developed from 2022/23
    for month in pd.date_range(date(start, 4, 1), date(last_fy + 1, 3, 1), freq="MS"):
        winter = 1 + 0.35 * np.cos(2 * np.pi * (month.month - 1) / 12)
        year_cut = 0.97 ** (month.year - 2022)
        for source, unit, base in (("electricity", "kWh", 1_350_000), ("natural_gas", "kWh", 1_100_000),
                                   ("diesel", "litres", 95_000), ("petrol", "litres", 22_000)):
            seasonal = winter if source == "natural_gas" else 1.0
            rows.append({"period_start": month.strftime("%Y-%m-%d"), "source": source,
                         "quantity": round(base * seasonal * year_cut * rng.normal(1, 0.03)), "unit": unit})
    return pd.DataFrame(rows)


def generate(out: str | Path, *, seed: int = 20230727, first_fy: int = 2019, last_fy: int = 2024,
             scale: float = 1.0) -> dict[str, int]:
    """Write the synthetic sample to ``out``; returns rows written per table.

    ``scale`` shrinks every volume (tests use a small scale for speed); rates are unchanged.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    days = _days(first_fy, last_fy)
    extraction = date(last_fy + 1, 5, 15)
    written: dict[str, int] = {}

    def write(name: str, frame: pd.DataFrame) -> None:
        """Write a table as soon as it is made and let it go (a 10x sample holds 27 million calls)."""
        if name in ("crimes", "outcomes", "calls", "incidents", "survey_responses"):
            frame.to_parquet(out / f"{name}.parquet", index=False, compression="zstd")
        else:
            frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        written[name] = len(frame)

    # the random draws keep this order, so a seed and scale always give the same sample
    crimes, outcomes = _crimes_and_outcomes(rng, days, scale, extraction)
    write("crimes", crimes)
    write("outcomes", outcomes)
    del crimes, outcomes
    write("calls", _calls(rng, days, scale))
    write("incidents", _incidents(rng, days, scale))
    write("survey_responses", _surveys(rng, days, scale))
    finance, vfm = _finance(rng, first_fy, last_fy)
    write("finance", finance)
    write("vfm", vfm)
    write("carbon", _carbon(rng, first_fy, last_fy))
    (out / "metadata.yaml").write_text(
        "# " + SYNTHETIC_NOTE + "\n"
        "synthetic: true\n"
        "force: \"Synthetic West Mercia-like force\"\n"
        f"extraction_date: \"{extraction.isoformat()}\"\n"
        f"generator_seed: {seed}\n"
        f"scale: {scale}\n", encoding="utf-8")
    (out / "README.md").write_text(
        f"# {SYNTHETIC_NOTE}\n\n"
        "Generated by `kpi sample` (kpi_lib/inputs/sample.py). Not real police data: every figure is\n"
        "invented, calibrated only to public magnitudes for a force of about 1.3 million people.\n"
        "Every report made from this folder says so on its first screen.\n\n"
        f"Seed {seed}, scale {scale}, financial years {first_fy}/{(first_fy + 1) % 100:02d} to "
        f"{last_fy}/{(last_fy + 1) % 100:02d}, extraction date {extraction.isoformat()}.\n",
        encoding="utf-8")
    return written
