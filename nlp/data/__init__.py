"""Editable data files (lexicon, user dictionary, IDF table, default scripts).

An (empty) package so that setuptools ships these files with the wheel: pyproject's
package-data patterns ("*.txt", "*.toml") apply to packages only.
"""
