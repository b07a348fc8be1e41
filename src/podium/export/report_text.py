"""`report.md` and `report.json` as text: rendered from the figures `podium.export.report`
computed (the JSON is the one source: the Markdown is rendered from it alone)."""

from __future__ import annotations

import json
from typing import Any

from podium.export import markdown as md

Json = dict[str, Any]


def to_json(data: Json) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


# -- Markdown, from the JSON alone ----------------------------------------------------------------


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    whole = int(value)
    seconds = round((value - whole) * 60)
    return f"{whole}:{seconds:02d}" if seconds < 60 else f"{whole + 1}:00"


def _vs(figures: Json, field: str = "runtime_minutes") -> str:
    target = figures.get("target_minutes")
    if target is None:
        return "no target stated"
    difference = figures[field] - target
    sign = "+" if difference >= 0 else "−"
    return f"target {_minutes(target)} ({sign}{_minutes(abs(difference))})"


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
            f"{_minutes(script['runtime_minutes'])} of screen time, {_vs(script)}."
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
        where = "" if cut["episode"] is None else f" (episode {cut['episode']})"
        parts.append(md.heading(2, f"The cut{where}"))
        lines = [
            f"{cut['items']} edit items, {cut['seconds']:g} s "
            f"({_minutes(cut['minutes'])}): {_vs(cut, 'minutes')}."
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
        parts.append("\n".join(f"- {md.inline(line)}" for line in lines))
    for cues in data.get("cues", []):
        where = "" if cues["episode"] is None else f" (episode {cues['episode']})"
        parts.append(md.heading(2, f"Music cues{where}"))
        lines = [
            f"{len(cues['cues'])} cues; the last ends at "
            f"{_minutes(cues['last_end_s'] / 60) if cues['last_end_s'] is not None else '—'}"
            + (
                f", the cut runs {_minutes(cues['cut_seconds'] / 60)}."
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
        parts.append("\n".join(f"- {md.inline(line)}" for line in lines))
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
