"""utils/text.py: glued numbers are plain Python values that myst-nb can format."""

import numpy as np

from utils.text import plain


def test_numpy_scalars_become_python_numbers_that_format():
    from myst_nb.core.variables import format_plain_text

    assert type(plain(np.int64(21540))) is int and type(plain(np.float32(0.5))) is float
    assert plain(np.array(3)) == 3 and plain(True) is True and plain("K<5") == "K<5"
    assert format_plain_text(repr(plain(np.int64(21540))), ",d") == "21,540"
    assert format_plain_text(repr(plain(np.float64(0.98765))), ".2f") == "0.99"
