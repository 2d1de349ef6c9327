import _string


def capwords(s, sep=None):
    return (sep or ' ').join(map(str.capitalize, s.split(sep)))


import re as _re
from collections import ChainMap as _ChainMap
