#!/usr/bin/env python3
"""Generate tests/guests/vmx_entry_matrix.gen.c: the VM-entry conformance
matrix, one guest test case per row of vmx/entry_checks.def in the phases
CONTROLS, HOST, GUEST and MSR_LOAD.

    python3 tests/gen/gen_entry_matrix.py          (or: make genmatrix)
    python3 tests/gen/gen_entry_matrix.py --check  (exit 1 if the checked-in
                                                    file is not what this
                                                    script generates)

The generated file is committed; building and running the tests never needs
Python. Each case starts from the valid baseline VMCS (vmx_baseline() of
tests/guests/lib/vmx_vmcs.h), runs the recipe's setup and brk statements
(tests/gen/entry_recipes.py, format in tests/gen/recipe.py), executes
VMLAUNCH and asserts the outcome the table row names; then it rebuilds the
baseline, runs setup alone and asserts that VMLAUNCH enters the guest (exit
reason 18, VMCALL). A case whose recipe says host=32 runs from a 32-bit
host (vmx_host32_state() after the baseline, VMLAUNCH by
vmx_try_launch_host32()). A case whose requires do not hold on the model
is a SKIP naming the requirement.

The expected outcomes are not copied into the generated file: it includes
vmx/entry_checks.def itself, so an outcome changed in the table is asserted
without regenerating, and a row added to the table without a recipe (and a
regenerated file) runs as a FAIL naming the row, never as a silent gap.

The script refuses (exit 1, listing the ids) when a matrix row has no recipe
or a recipe names no matrix row.
"""
import argparse
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

from recipe import R, RecipeError  # noqa: E402

MATRIX_PHASES = ("CONTROLS", "HOST", "GUEST", "MSR_LOAD")
ALL_PHASES = ("BASIC",) + MATRIX_PHASES
HELPERS = "tests/gen/recipe_helpers.h"
MSR_LOADING_REASONS = ("34", "EXIT_REASON_MSR_LOADING")


class DefError(ValueError):
    pass


def strip_comments(text):
    """The text with C comments replaced by spaces (strings kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise DefError("unterminated comment")
            out.append(" " * (j + 2 - i))
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_args(text, start):
    """The top-level comma-separated arguments of the parenthesised list
    opening at text[start] == '(', and the index after its ')'."""
    args, depth, cur, i = [], 0, [], start
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i + 1
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    raise DefError("unbalanced parentheses in a CHECK row")


def c_string_value(lit):
    if len(lit) < 2 or lit[0] != '"' or lit[-1] != '"':
        raise DefError("expected a string literal, got %s" % lit)
    return lit[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def parse_def(path):
    """The CHECK rows of the table, in table order, as dicts."""
    with open(path) as f:
        text = strip_comments(f.read())
    rows, pos = [], 0
    while True:
        i = text.find("CHECK(", pos)
        if i < 0:
            break
        if i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_"):
            pos = i + 1
            continue
        args, pos = split_args(text, i + len("CHECK"))
        line = text.count("\n", 0, i) + 1
        if len(args) != 6:
            raise DefError("%s:%d: CHECK needs 6 arguments, has %d" % (path, line, len(args)))
        cid, phase, sec, out, field, rule = args
        if phase not in ALL_PHASES:
            raise DefError("%s:%d: %s: unknown phase %s" % (path, line, cid, phase))
        rows.append(dict(id=cid, phase=phase, section=c_string_value(sec), outcome=out,
                         field=field, rule=c_string_value(rule), line=line))
    ids = [r["id"] for r in rows]
    dups = sorted({x for x in ids if ids.count(x) > 1})
    if dups:
        raise DefError("%s: duplicate ids: %s" % (path, ", ".join(dups)))
    return rows


def load_recipes(path):
    spec = importlib.util.spec_from_file_location("entry_recipes", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    recipes = getattr(mod, "RECIPES", None)
    if not isinstance(recipes, dict):
        raise RecipeError("%s defines no RECIPES dict" % path)
    for cid, r in recipes.items():
        if not isinstance(r, R):
            raise RecipeError("%s: not an R(...)" % cid)
    return recipes


def is_msr_loading(row):
    out = row["outcome"].replace(" ", "")
    return row["phase"] == "MSR_LOAD" or any(out.startswith("FAIL_EXIT(%s," % r) for r in MSR_LOADING_REASONS)


def check_coverage(rows, recipes):
    """Problems that make the matrix incomplete or wrong, one line each."""
    matrix = [r for r in rows if r["phase"] in MATRIX_PHASES]
    ids = {r["id"] for r in matrix}
    problems = []
    missing = [r["id"] for r in matrix if r["id"] not in recipes]
    if missing:
        problems.append("rows without a recipe: " + ", ".join(missing))
    stray = sorted(set(recipes) - ids)
    if stray:
        problems.append("recipes naming no CONTROLS/HOST/GUEST/MSR_LOAD row: " + ", ".join(stray))
    noqual = [r["id"] for r in matrix if r["id"] in recipes and is_msr_loading(r) and recipes[r["id"]].qual is None]
    if noqual:
        problems.append("MSR-loading rows whose recipe gives no qual (the 1-based entry index): " +
                        ", ".join(noqual))
    return problems


def c_comment(text):
    return text.replace("*/", "* /")


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emit_case(row, r):
    cid = row["id"]
    out = ["/* %s (%s): %s */" % (cid, row["section"], c_comment(row["rule"]))]
    if r.note:
        out.append("/* %s */" % c_comment(r.note))
    out.append("void case_%s(const struct matrix_row *row)" % cid)
    out.append("{")
    for req in r.requires:
        out.append("\tif (!(%s)) {" % req)
        out.append("\t\tskip(row, %s);" % c_string(req))
        out.append("\t\treturn;")
        out.append("\t}")
    baseline = ["\tvmx_baseline(%d);" % r.guest] + (["\tvmx_host32_state();"] if r.host == 32 else [])
    launch = "vmx_try_launch_host32()" if r.host == 32 else "vmx_try_launch()"
    out += baseline
    out += ["\t%s" % s for s in r.setup]
    out += ["\t%s" % s for s in r.brk]
    qual = "row->qual" if r.qual is None else "(uint64_t)(%s)" % r.qual
    out.append("\texpect_failure(row, %s, %s);" % (launch, qual))
    out.append("\t/* The same without the break: the entry must succeed. */")
    out += baseline
    out += ["\t%s" % s for s in r.setup]
    out.append("\texpect_fixed(row, %s);" % launch)
    out.append("}")
    return "\n".join(out) + "\n"


PROLOGUE = """\
/* Generated by tests/gen/gen_entry_matrix.py from vmx/entry_checks.def and
 * tests/gen/entry_recipes.py: do not edit. Regenerate with `make genmatrix`.
 *
 * The VM-entry conformance matrix: for every check of the CONTROLS, HOST,
 * GUEST and MSR_LOAD phases, break exactly that rule in the valid baseline
 * VMCS, assert the outcome the table row names (VMfailValid with its error
 * number, or a VM-entry failure exit with its reason and qualification),
 * then rebuild the baseline without the break and assert that the entry
 * succeeds (exit reason 18, the guest's VMCALL).
 */
#include "guest.h"
#include "vmx_host32.h"
#include "vmx_vmcs.h"
%(helpers)s
enum matrix_kind { MATRIX_FAULT, MATRIX_FAIL_INVALID, MATRIX_FAIL_VALID, MATRIX_FAIL_EXIT };

struct matrix_row {
	const char *id, *section;
	void (*run)(const struct matrix_row *row);
	enum matrix_kind kind;
	uint32_t number;        /* VM-instruction error or basic exit reason */
	uint64_t qual;
};

static __attribute__((unused)) void print_outcome(struct vmx_outcome o)
{
	if (o.res == VMX_FAIL_INVALID)
		printf("      got VMfailInvalid\\n");
	else if (o.res == VMX_FAIL_VALID)
		printf("      got VMfailValid(%%u)\\n", o.error);
	else
		printf("      got exit reason %%#x, qualification %%#lx\\n", o.exit_reason, o.qual);
}

static __attribute__((unused)) void skip(const struct matrix_row *row, const char *requirement)
{
	report_skip("%%s (%%s): the model lacks %%s", row->id, row->section, requirement);
}

static __attribute__((unused)) void expect_failure(const struct matrix_row *row, struct vmx_outcome o, uint64_t qual)
{
	bool ok;

	switch (row->kind) {
	case MATRIX_FAIL_INVALID:
		ok = report(o.res == VMX_FAIL_INVALID, "%%s (%%s): VMfailInvalid", row->id, row->section);
		break;
	case MATRIX_FAIL_VALID:
		ok = report(o.res == VMX_FAIL_VALID && o.error == row->number, "%%s (%%s): VMfailValid(%%u)", row->id,
			    row->section, row->number);
		break;
	case MATRIX_FAIL_EXIT:
		ok = report(o.res == VMX_OK && o.exit_reason == (row->number | EXIT_REASON_ENTRY_FAILURE) &&
				    o.qual == qual,
			    "%%s (%%s): VM-entry failure, exit reason %%u, qualification %%lu", row->id, row->section,
			    row->number, qual);
		break;
	default:
		ok = report(false, "%%s (%%s): outcome kind %%d cannot be tested by VMLAUNCH", row->id, row->section,
			    row->kind);
		break;
	}
	if (!ok)
		print_outcome(o);
}

static __attribute__((unused)) void expect_fixed(const struct matrix_row *row, struct vmx_outcome o)
{
	if (!report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
		    "%%s: after fixing, VMLAUNCH enters the guest (exit reason 18)", row->id))
		print_outcome(o);
}

/* One case function per row; a row without one (the table grew, this file
 * was not regenerated) stays a null weak reference and fails by name. */
#define MATRIX_BASIC(...)
#define MATRIX_ROW(id, ...) void case_##id(const struct matrix_row *row) __attribute__((weak));
#define MATRIX_CONTROLS MATRIX_ROW
#define MATRIX_HOST MATRIX_ROW
#define MATRIX_GUEST MATRIX_ROW
#define MATRIX_MSR_LOAD MATRIX_ROW
#define CHECK(id, phase, sec, out, field, rule) MATRIX_##phase(id, sec, out)
#include "vmx/entry_checks.def"
#undef CHECK
#undef MATRIX_ROW

"""

EPILOGUE = """\
/* The outcome column of vmx/entry_checks.def (vmx/entry_table.c) as the
 * last members of struct matrix_row. */
#define FAIL_INVALID MATRIX_FAIL_INVALID, 0, 0
#define FAIL_VALID(n) MATRIX_FAIL_VALID, (n), 0
#define FAIL_EXIT(r, q) MATRIX_FAIL_EXIT, (r), (q)
#define MATRIX_ROW(id, sec, ...) { #id, sec, case_##id, __VA_ARGS__ },
#define CHECK(id, phase, sec, out, field, rule) MATRIX_##phase(id, sec, out)
static const struct matrix_row matrix[] = {
#include "vmx/entry_checks.def"
	{ NULL, NULL, NULL, MATRIX_FAULT, 0, 0 },
};
#undef CHECK
#undef MATRIX_ROW

void kmain(uint32_t magic, uint32_t mbinfo)
{
	unsigned n = 0;

	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		for (const struct matrix_row *row = matrix; row->id; row++, n++) {
			if (row->run)
				row->run(row);
			else
				report(false, "%%s (%%s): no generated case (add a recipe, run `make genmatrix`)",
				       row->id, row->section);
		}
		report_info("VM-entry conformance matrix: %%u checks, %(cases)d generated cases", n);
	}
	report_summary();
}
"""


def generate(rows, recipes, helpers_exist):
    helpers = '#include "%s"\n' % HELPERS if helpers_exist else ""
    parts = [PROLOGUE % {"helpers": helpers}]
    cases = 0
    for row in rows:
        if row["phase"] in MATRIX_PHASES:
            parts.append(emit_case(row, recipes[row["id"]]))
            parts.append("\n")
            cases += 1
    parts.append(EPILOGUE % {"cases": cases})
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", default=os.path.join(ROOT, "vmx/entry_checks.def"))
    ap.add_argument("--recipes", default=os.path.join(HERE, "entry_recipes.py"))
    ap.add_argument("-o", "--output", default=os.path.join(ROOT, "tests/guests/vmx_entry_matrix.gen.c"))
    ap.add_argument("--check", action="store_true", help="compare with the output file instead of writing it")
    a = ap.parse_args()
    try:
        rows = parse_def(a.table)
        recipes = load_recipes(a.recipes)
    except (DefError, RecipeError, OSError) as e:
        print("gen_entry_matrix: %s" % e, file=sys.stderr)
        return 1
    problems = check_coverage(rows, recipes)
    if problems:
        for p in problems:
            print("gen_entry_matrix: %s" % p, file=sys.stderr)
        return 1
    text = generate(rows, recipes, os.path.exists(os.path.join(ROOT, HELPERS)))
    if a.check:
        try:
            with open(a.output) as f:
                same = f.read() == text
        except OSError:
            same = False
        if not same:
            print("gen_entry_matrix: %s is stale: run `make genmatrix`" % a.output, file=sys.stderr)
            return 1
        return 0
    with open(a.output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
