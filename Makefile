# vtxsim: a deterministic, cycle-counting x86-64 PC simulator with Intel VT-x.
#
#   make            build build/vtxsim
#   make run        install deps, build, boot the demo hypervisor (examples/minivisor)
#   make test       install deps, build, run unit and guest tests
#   make test SAN=1 the same under AddressSanitizer + UBSan (in build-san/)
#   make bench      MIPS on an integer loop and VM exits per second (and Bochs's, when installed)
#   make difftest   differential test against the host CPU: N=instructions
#                   (default 1000000), SEED=n; prints mismatches and coverage
#   make diffgen    regenerate tests/diff/templates.gen.c (needs python3)
#   make genmatrix  regenerate tests/guests/vmx_entry_matrix.gen.c, the VM-entry
#                   conformance matrix (needs python3; tests/gen/README.md)

SAN ?= 0
ifeq ($(SAN),1)
B := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT ?= -O1 -g
# A sanitizer report must never look like a guest's exit status.
export ASAN_OPTIONS := exitcode=125
export UBSAN_OPTIONS := exitcode=125:print_stacktrace=1
else
B := build
SANFLAGS :=
OPT ?= -O2 -g
endif

CC ?= gcc
CFLAGS := -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-I. -MMD -MP $(SANFLAGS)
LDFLAGS := $(SANFLAGS)
LIBS := -lreadline -lZydis
# SDL2 for -display sdl (sim/display.c), zlib for its gzipped console fonts.
SDL_CFLAGS := $(shell pkg-config --cflags sdl2 2>/dev/null)
CFLAGS += $(SDL_CFLAGS)
LIBS += $(shell pkg-config --libs sdl2 2>/dev/null) -lz

CORE_DIRS := cpu vmx mem devices sim debugger
CORE_SRCS := $(filter-out sim/main.c,$(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c)))
CORE_OBJS := $(CORE_SRCS:%.c=$(B)/obj/%.o)
LIB := $(B)/libvtxsim.a
VTXSIM := $(B)/vtxsim

UNIT_SRCS := $(wildcard tests/unit/*.c tests/unit/*/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/obj/%.o)
UNIT := $(B)/unit-tests

# Differential tests against the host CPU (tests/diff): a fixed seed runs
# in `make test`; `make difftest` runs N instructions from SEED.
DIFF_SRCS := $(wildcard tests/diff/*.c)
DIFF_OBJS := $(DIFF_SRCS:%.c=$(B)/obj/%.o)
DIFFTEST := $(B)/difftest
N ?= 1000000
SEED ?= 1

.PHONY: all deps run test unit guests bench clean difftest diffgen
all: $(VTXSIM)

deps:
	@sh scripts/deps.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(VTXSIM): $(B)/obj/sim/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(UNIT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcunit

$(DIFFTEST): $(DIFF_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Freestanding guest kernels (tests/guests, examples, bench) are built by
# guest.mk with the host gcc in freestanding mode; never sanitized.
include tests/guests/guest.mk

run: deps
	@$(MAKE) --no-print-directory all guests
	$(VTXSIM) -kernel $(GUEST_B)/examples/minivisor.elf --explain --exit-summary

test: deps
	@$(MAKE) --no-print-directory all $(UNIT) $(DIFFTEST) guests
	@sh tests/run-all.sh $(B) $(GUEST_B)

unit: $(UNIT)
	$(UNIT)

bench: deps
	@$(MAKE) --no-print-directory all guests
	@sh bench/run.sh $(B) $(GUEST_B)

difftest: deps
	@$(MAKE) --no-print-directory $(DIFFTEST)
	$(DIFFTEST) -n $(N) -s $(SEED) -c

diffgen:
	python3 tests/diff/gen.py

.PHONY: genmatrix
genmatrix:
	python3 tests/gen/test_gen_entry_matrix.py
	python3 tests/gen/gen_entry_matrix.py

clean:
	rm -rf build build-san

-include $(CORE_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(DIFF_OBJS:.o=.d) $(B)/obj/sim/main.d
