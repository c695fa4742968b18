"""NHS trusts placed by headquarters postcode, acute trusts told apart (Qt-free).

Headquarters are not catchments.  See :mod:`icbmap.trusts.table` for the sources and rules.
"""
