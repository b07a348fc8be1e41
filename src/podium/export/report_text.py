"""`report.md` and `report.json` as text: rendered from the figures `podium.export.report`
computed (the JSON is the one source: the Markdown is rendered from it alone)."""

from __future__ import annotations

import json
from typing import Any

from podium.deliverables.figures import clock
from podium.export import markdown as md

Json = dict[str, Any]


def to_json(data: Json) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


# -- Markdown, from the JSON alone ----------------------------------------------------------------


def _minutes(value: float | None) -> str:
    """`M:SS` of a number of minutes."""
    return "—" if value is None else clock(value * 60)


def _vs(figures: Json, field: str, declared: list[str]) -> str:
    """The figure against the stated target and the production file's declared rules."""
    target = figures.get("target_minutes")
    against = list(declared)
    if target is not None:
        difference = figures[field] - target
        sign = "+" if difference >= 0 else "−"
        against.insert(0, f"target {_minutes(target)} ({sign}{_minutes(abs(difference))})")
    return "; ".join(against) or "no target stated"


def _within(holds: object) -> str:
    return "within" if holds else "**outside**"


def _bounds(low: float | None, high: float | None) -> str:
    return f"{low if low is not None else 0:g}–{high:g}" if high is not None else f"≥ {low:g}"


def _section(parts: list[str | None], title: str, episode: int | None, lines: list[str]) -> None:
    where = "" if episode is None else f" (episode {episode})"
    parts.append(md.heading(2, f"{title}{where}"))
    parts.append("\n".join(f"- {md.inline(line)}" for line in lines))


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _holds(value: object) -> str:
    return "holds" if value else "**fails**"


def to_markdown(data: Json) -> str:
    """The report for a reader: rendered from `report(...)` and nothing else."""
    parts: list[str | None] = [md.heading(1, md.inline(f"Report: {data['title']}"))]
    target = data.get("target")
    if target:
        parts.append(
            f"Target runtime: {_minutes(target['runtime_minutes'])} for each {target['per']}, "
            f"from {md.inline(target['source'])}. Runtime is counted a page a minute from the "
            f"printed script ({data['method']['lines_per_page']} lines a page), scene lengths in "
            "eighths of a page."
        )
    for note in data.get("notes", []):
        parts.append(md.inline(note))
    story = data.get("story")
    if story:
        parts.append(md.heading(2, "Story"))
        wanted = story["target_chapters"]
        words = story["target_words"]
        parts.append(
            f"{story['chapter_count']} chapters"
            + (f" (target {wanted})" if wanted is not None else " (no target stated)")
            + f", {story['words']} words"
            + (f" (target {words['value']:g}, from {md.inline(words['source'])})" if words else "")
            + "."
        )
        parts.append(
            "\n".join(
                f"- {md.inline(c['title']) or 'Chapter ' + str(c['chapter'])}: {c['words']} words"
                for c in story["chapters"]
            )
        )
    for script in data.get("scripts", []):
        what = "Screenplay" if script["episode"] is None else f"Episode {script['episode']}"
        parts.append(md.heading(2, f"{what}: {script['file']}"))
        parts.append(
            f"{script['pages']} pages printed, {script['length']} pages long: "
            f"{_minutes(script['runtime_minutes'])} of screen time, "
            + _vs(
                script,
                "runtime_minutes",
                [
                    f"{_within(r['holds'])} {_bounds(r['min'], r['max'])} {r['unit']} "
                    f"({md.inline(r['rule'])})"
                    for r in script.get("ranges", [])
                ],
            )
            + "."
        )
        rows = [
            f"| {s['scene']} | {md.inline(s['heading'])} | {s['length']} | "
            f"{', '.join(str(p) for p in s['pages'])} | "
            f"{md.inline(', '.join(s['on_page'])) or '—'} |"
            for s in script["scenes"]
        ]
        parts.append(
            "| Scene | Heading | Length | Pages | On the printed page |\n"
            "| ---: | --- | ---: | --- | --- |\n" + "\n".join(rows)
        )
    for cut in data.get("cut", []):
        share = cut.get("against_script")
        declared = (
            [
                f"{share['share_of_script']:+.0%} of the script's length, "
                f"{'within' if share['holds'] else 'outside'} ±{share['tolerance']:.0%} "
                f"({share['rule']})"
            ]
            if share
            else []
        )
        lines = [
            f"{cut['items']} edit items, {cut['seconds']:g} s "
            f"({clock(cut['seconds'])}): {_vs(cut, 'minutes', declared)}."
        ]
        if not cut["shot_list"]:
            lines.append("There is no shot list to check the items against.")
        else:
            missing = cut["missing_shots"]
            lines.append(
                f"Shots the cut names that the shot list lacks: {', '.join(missing)}."
                if missing
                else "Every item names a shot in the shot list."
            )
            longer = cut["longer_than_shot"]
            lines.append(
                f"{len(longer)} of {cut['items']} items run longer than their shot"
                + (
                    ": "
                    + ", ".join(
                        f"{x['shot']} ({x['item_s']:g} s of a {x['shot_s']:g} s shot)"
                        for x in longer
                    )
                    if longer
                    else "."
                )
            )
        _section(parts, "The cut", cut["episode"], lines)
    for cues in data.get("cues", []):
        lines = [
            f"{len(cues['cues'])} cues; the last ends at "
            f"{clock(cues['last_end_s']) if cues['last_end_s'] is not None else '—'}"
            + (
                f", the cut runs {clock(cues['cut_seconds'])}."
                if cues["cut_seconds"] is not None
                else "; there is no cut to hold them."
            )
        ]
        if cues["outside_cut"]:
            lines.append(f"Cues that end after the cut: {', '.join(cues['outside_cut'])}.")
        if cues["unreadable_start"]:
            lines.append(
                f"Cues whose start is not a timecode: {', '.join(cues['unreadable_start'])}."
            )
        if cues["first_scene"] is not None:
            lines.append(f"The score enters in scene {cues['first_scene']}.")
        _section(parts, "Music cues", cues["episode"], lines)
    declared = data.get("rules", [])
    if declared:
        parts.append(md.heading(2, "The production file's rules, held against the deliverables"))
        parts.append(
            "\n".join(
                f"- {_holds(r['holds'])}: {md.inline(r['rule'])} ({r['type']}): "
                f"{md.inline(r['statement'])}"
                + (f" — {md.inline(r['evidence'])}" if r["type"] == "count" else "")
                for r in declared
            )
        )
    rules = data.get("style_rules", [])
    parts.append(md.heading(2, "Style rules that can be counted"))
    if rules:
        parts.append(
            "\n".join(
                f"- {_holds(r['holds'])}: “{md.inline(r['rule'])}” — {md.inline(r['measure'])}: "
                f"{_number(r['counted'])} (expected {_number(r['expected'])})"
                + (f"; {md.inline(', '.join(r['offending']))}" if r["offending"] else "")
                for r in rules
            )
        )
    elif declared:
        parts.append("The style guide states no countable rule beyond those declared above.")
    else:
        parts.append("The style guide states no rule this report can count.")
    presence = data.get("presence", [])
    if presence:
        parts.append(md.heading(2, "Who must appear, on the printed page"))
        parts.append(
            "\n".join(
                f"- {_holds(p['holds'])}: {md.inline(p['rule'])} ({md.inline(p['task'])}, "
                f"{p['file']} scene{'s' if len(p['scenes']) != 1 else ''} "
                f"{', '.join(str(s) for s in p['scenes']) or 'none'}): "
                + (f"missing {md.inline(', '.join(p['missing']))}" if p["missing"] else "all there")
                for p in presence
            )
        )
    return md.document(parts)
