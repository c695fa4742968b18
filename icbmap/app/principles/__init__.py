"""The Principles dock, its live checker, the rule-set editor and reference geographies."""
