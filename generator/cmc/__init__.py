"""CMC stage: staged framework, product CMC inputs, lot data, rules, analytics and Module 3 drafts.

Entry points for `api.check` and `build` live in `generator.cmc.api`.
"""
