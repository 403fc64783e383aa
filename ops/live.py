"""The operators' live view (`/staff/direct`): deadline night as it happens, without Grafana.

The web holds no dossier state, so every figure comes from a source that several web and worker
processes already share, read at each visit:
- validations per minute and dossiers by status: Temporal visibility (the `ValidatedAt` search
  attribute each dossier sets when it accepts its validation; the counts of the staff lists);
- mails, errors and logins: the counters of the workers' and the web's Prometheus endpoints,
  scraped here (README « Exploitation »), summed over the processes. They count since each
  process started.
Nothing personal is read into the page: counts only, never an address or a dossier number.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from prometheus_client.parser import text_string_to_metric_families

from domain.campaign import Campaign
from domain.status import Status
from workflows import names
from workflows.client import WorkflowClient
from workflows.visibility import DossierFilter

WINDOW = timedelta(hours=3)
SCRAPE_TIMEOUT = 3.0
# A campaign is "current" from its opening until a day after its uploads close: deadline night
# and the late uploads that follow it.
AFTER_DEADLINE = timedelta(days=1)


def current_campaigns(campaigns: Iterable[Campaign], now: datetime) -> list[Campaign]:
    return [
        c
        for c in campaigns
        if c.registration_opens_at <= now <= c.validation_deadline + c.upload_grace + AFTER_DEADLINE
    ]


# Each campaign shown costs one visibility count per status and one list of validations: beyond
# a few, a refresh every 30 s would spend the namespace's request budget (the server answers
# "namespace rate limit exceeded"). The others are links to their own view (`?session=`).
MOST_SHOWN = 6


def most_pressing(
    current: list[Campaign], now: datetime, most: int = MOST_SHOWN
) -> tuple[list[Campaign], list[Campaign]]:
    """(campaigns to detail, the others): those whose validation deadline is nearest to now."""
    ordered = sorted(current, key=lambda c: abs((c.validation_deadline - now).total_seconds()))
    return ordered[:most], ordered[most:]


# ------------------------------------------------------------------ validations per minute
@dataclass
class Minute:
    at: datetime  # the minute's start, in the campaigns' time zone
    counts: dict[str, int]  # campaign id -> validations

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def validations_per_minute(
    workflows: WorkflowClient, campaign_ids: list[str], now: datetime, tz: ZoneInfo, window: timedelta = WINDOW
) -> list[Minute]:
    """One `Minute` per minute of the window, oldest first (empty minutes included)."""
    start = (now - window).replace(second=0, microsecond=0)
    instants = await asyncio.gather(*(workflows.validation_instants(i, start) for i in campaign_ids))
    buckets: Counter[tuple[int, str]] = Counter()
    for campaign_id, ats in zip(campaign_ids, instants, strict=True):
        for at in ats:
            buckets[(int((at - start).total_seconds() // 60), campaign_id)] += 1
    minutes = int(window.total_seconds() // 60) + 1
    return [
        Minute((start + timedelta(minutes=i)).astimezone(tz), {c: buckets[(i, c)] for c in campaign_ids})
        for i in range(minutes)
    ]


def chart_svg(minutes: list[Minute], labels: dict[str, str]) -> str:
    """Validations per minute, one line per campaign, as inline SVG (its text stays text)."""
    # Imported here: half a second the other pages need not pay. The object API and the SVG
    # canvas, as web/staff/campaign_glance.py: no pyplot global state, safe in a thread.
    import matplotlib
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "direct", "font.size": 9}):
        figure = Figure(figsize=(8, 2.6))
        FigureCanvasSVG(figure)
        axes = figure.subplots()
        colours = iter(["#000091", "#e1000f", "#18753c", "#b34000", "#6a6af4"])
        times = [mdates.date2num(m.at) for m in minutes]
        for campaign_id, label in labels.items():
            axes.step(
                times,
                [m.counts.get(campaign_id, 0) for m in minutes],
                where="post",
                label=label,
                color=next(colours, None),
            )
        axes.set_ylabel("validations / min")
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        if minutes:
            tz = minutes[0].at.tzinfo
            axes.xaxis.set_major_locator(mdates.MinuteLocator(byminute=[0, 30], tz=tz))
            axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=tz))
        axes.grid(axis="y", alpha=0.3)
        if len(labels) > 1:
            axes.legend(loc="upper left")
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg")
    svg = out.getvalue()
    return svg[svg.index("<svg") :]  # inline: no XML declaration nor doctype


# ------------------------------------------------------------------ Prometheus endpoints
@dataclass
class Source:
    name: str  # "worker" | "web"
    url: str  # empty: this web process's own registry
    ok: bool
    detail: str


@dataclass
class Samples:
    """The samples of several endpoints, added up (counters sum over processes)."""

    values: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, text: str) -> None:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                self.values.append((s.name, s.labels, s.value))

    def sum(self, name: str, **labels: str) -> int:
        return int(sum(v for n, lab, v in self.values if n == name and all(lab.get(k) == x for k, x in labels.items())))

    def sum_where(self, name: str, label: str, test: Callable[[str], bool]) -> int:
        return int(sum(v for n, lab, v in self.values if n == name and test(lab.get(label, ""))))


async def scrape(http: httpx.AsyncClient, name: str, url: str, into: Samples) -> Source:
    try:
        response = await http.get(url, timeout=SCRAPE_TIMEOUT)
        response.raise_for_status()
        into.add(response.text)
        return Source(name, url, True, "lu")
    except (httpx.HTTPError, ValueError) as exc:
        return Source(name, url, False, f"{type(exc).__name__} : {str(exc).splitlines()[0] if str(exc) else 'erreur'}")


# ------------------------------------------------------------------ the page's figures
@dataclass
class Figures:
    campaigns: list[Campaign]
    minutes: list[Minute]
    chart: str
    by_status: dict[str, list[tuple[Status, int]]]  # campaign id -> non-zero counts
    sources: list[Source]
    mails_queued: int
    mails_sent: int
    mails_set_aside: int
    mails_waiting: int
    smtp_failures: int
    task_failures: int
    web_errors: int
    logins: dict[str, int]  # "refused" | "limited" | "accepted" -> count, both spaces
    tz: ZoneInfo

    @property
    def validations(self) -> int:
        return sum(m.total for m in self.minutes)

    @property
    def last_hour(self) -> int:
        return sum(m.total for m in self.minutes[-60:])

    @property
    def busy_minutes(self) -> list[Minute]:
        """The minutes with at least one validation, latest first: the chart's data table."""
        return [m for m in reversed(self.minutes) if m.total][:60]


async def gather(
    workflows: WorkflowClient,
    campaigns: list[Campaign],
    worker_urls: list[str],
    web_urls: list[str],
    own_metrics: str,
    now: datetime,
) -> Figures:
    tz = ZoneInfo(campaigns[0].time_zone if campaigns else "Europe/Paris")
    ids = [c.id for c in campaigns]
    samples = Samples()
    async with httpx.AsyncClient() as http:
        sources = list(
            await asyncio.gather(
                *(scrape(http, "worker", url, samples) for url in worker_urls),
                *(scrape(http, "web", url, samples) for url in web_urls),
            )
        )
    if not web_urls:  # this process's figures only: say so on the page
        samples.add(own_metrics)
        sources.append(Source("web", "", True, "ce processus web seulement"))

    async def statuses(campaign_id: str) -> list[tuple[Status, int]]:
        counts = await workflows.counts_by_status(DossierFilter(campaign_id=campaign_id))
        return [(s, n) for s, n in counts.items() if n]

    counted = await asyncio.gather(*(statuses(i) for i in ids))
    minutes = await validations_per_minute(workflows, ids, now, tz)
    chart = await asyncio.to_thread(chart_svg, minutes, {c.id: c.id for c in campaigns})
    queued = sum(samples.sum(f"{names.METRIC_MAILS_QUEUED}_total", campaign=i) for i in ids)
    set_aside = sum(samples.sum(f"{names.METRIC_MAILS_SET_ASIDE}_total", campaign=i) for i in ids)
    sent = samples.sum(f"{names.METRIC_MAILS_SENT}_total")
    return Figures(
        campaigns=campaigns,
        minutes=minutes,
        chart=chart,
        by_status=dict(zip(ids, counted, strict=True)),
        sources=sources,
        mails_queued=queued,
        mails_sent=sent,
        mails_set_aside=set_aside,
        # Sent mails carry no campaign: with several campaigns, the difference is the workers' total.
        mails_waiting=max(
            0,
            samples.sum(f"{names.METRIC_MAILS_QUEUED}_total")
            - sent
            - samples.sum(f"{names.METRIC_MAILS_SET_ASIDE}_total"),
        ),
        smtp_failures=samples.sum(f"{names.METRIC_MAIL_FAILURES}_total"),
        task_failures=samples.sum("temporal_workflow_task_execution_failed_total"),
        web_errors=samples.sum_where("http_requests_total", "status", lambda s: s.startswith("5")),
        logins={
            outcome: samples.sum("inscriptions_logins_total", outcome=outcome)
            for outcome in ("accepted", "refused", "limited")
        },
        tz=tz,
    )
