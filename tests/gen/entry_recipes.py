"""How to break each VM-entry check of vmx/entry_checks.def (phases
CONTROLS, HOST, GUEST, MSR_LOAD) from the valid baseline VMCS; read by
tests/gen/gen_entry_matrix.py. Format: tests/gen/recipe.py.

Scratch version of the "gen" helper: main's table has only the BASIC row
(not a matrix case) so far. The "checks" helper's file, with a recipe for
every row, replaces this one.
"""
from recipe import R  # noqa: F401

RECIPES = {
}
