"""lexguard: a Chinese-first harmful-content and keyword filter, at native speed.

>>> import lexguard
>>> f = lexguard.Filter()                 # the shipped lexicon
>>> r = f.check("网上百家 樂平台")
>>> r.verdict, r.categories
('block', ['gambling'])
>>> h = r.hits[0]
>>> h.term, h.matched, h.start, h.end, h.flags
('百家乐', '百家 樂', 2, 6, ['traditional', 'separator'])
>>> f.mask("网上百家 樂")
'网上****'

``f.check(html, format="html")`` checks an HTML document (visible text with entities decoded,
title, ``alt``/``title`` attributes, script strings); its spans index the markup.

The work is done by the Rust core with the GIL released; ``Filter.check_many`` checks a batch
in parallel. See README.md beside the package source for the whole API.
"""

from ._lexguard import Filter, Hit, Report, WordlistError, __version__

__all__ = ["Filter", "Hit", "Report", "WordlistError", "__version__"]
