"""The rehearsal model: podium's default, offline model (model names `rehearsal/<anything>`).

`backend` is the model the gateway calls; it writes from the production's own material
(`material`) with sentences built from word banks (`banks`, `dialogue_banks`, `craft_banks`) by a
seeded `composer`; `plan`, `writers`, `screenplay` and `talk` write each kind of reply;
`illustrator` draws a stand-in picture (Pillow) from a `sketch` of a brief, a shot or a prompt.
Nothing here imports litellm, and importing this package imports none of its modules.
"""
