"""Training: the value survey, model profiles, and LoRA alignment of a model's values.

* :mod:`training.survey` (the survey's model: scale, items, phrasings, checks) and
  :mod:`training.survey_io` (reading survey files, ``load_survey``);
* :mod:`training.profile` (a model's value profile from its survey answers, with bootstrap
  intervals), :mod:`training.profile_compare` (two profiles compared), :mod:`training.profile_charts`
  (their charts);
* :mod:`training.targets`, :mod:`training.sft_data`, :mod:`training.sft`,
  :mod:`training.align_config`, :mod:`training.align`, :mod:`training.evaluate` (``s2b align``:
  target profile -> SFT data -> LoRA training -> held-out shift);
* :mod:`training.value_ids` (the value-id check shared with :mod:`s2b_env`).

Nothing here imports torch, transformers or peft at import time; they load when a model is used.
"""
