# svcscore — one non-recursive Makefile.
#
#   make            build bin/svcscore and bin/smartcar-sim
#   make test       unit tests, the same tests under ASan+UBSan, end-to-end tests
#   make demo       the main job on the bundled sample fleet
#   make bench      benchmark scripts (print figures)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each (needs clang)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
#
# WERROR= drops -Werror for newer compilers; V=1 shows the commands.

CC      ?= cc
CSTD    = -std=c11
WERROR  ?= -Werror
WARN    = -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wold-style-definition -Wwrite-strings \
          -Wformat=2 -Wpointer-arith -Wvla -Wundef
OPT     ?= -O2 -g
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -Iengine
PREFIX  ?= /usr/local
DESTDIR ?=

PKGS     = libcurl libcjson gsl sqlite3
DEPS_OK := $(shell pkg-config --exists $(PKGS) cunit libmicrohttpd \
             && test -f /usr/include/csv.h && echo yes)

ifeq ($(V),1)
Q =
else
Q = @
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CSV_LIBS   := $(shell pkg-config --libs libcsv 2>/dev/null || echo -lcsv)
CUNIT_LIBS := $(shell pkg-config --libs cunit 2>/dev/null)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
ZLIB_LIBS  := $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)
LIBS       = $(PKG_LIBS) $(CSV_LIBS) $(ZLIB_LIBS) -lpthread -lm

CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) $(MHD_CFLAGS) $(CFLAGS)
SANFLAGS   = -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer -O1 -g

# The engine's modules and the API client form one archive; the commands
# (engine/cmd/, the only code that prints) link against it.  The simulator's
# pure modules form a small archive of their own that the unit tests link.
LIB_SRCS  := $(wildcard engine/*.c engine/api/*.c)
CMD_SRCS  := $(filter-out engine/cmd/main.c,$(wildcard engine/cmd/*.c))
SIMLIB_SRCS := $(addprefix engine/sim/,sim_window.c sim_fault.c sim_rate.c)
SIM_SRCS  := $(filter-out $(SIMLIB_SRCS),$(wildcard engine/sim/*.c))
TEST_SRCS := $(wildcard tests/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=build/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=build/%.o)
SIMLIB_OBJS := $(SIMLIB_SRCS:%.c=build/%.o)
SIM_OBJS  := $(SIM_SRCS:%.c=build/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=build/%.o)
BENCH_OBJS := $(BENCH_SRCS:%.c=build/%.o)
SAN_LIB   := $(LIB_SRCS:%.c=build/san/%.o) $(SIMLIB_SRCS:%.c=build/san/%.o)
SAN_TEST  := $(TEST_SRCS:%.c=build/san/%.o)

ALL_OBJS  := build/engine/cmd/main.o $(LIB_OBJS) $(CMD_OBJS) \
             $(SIMLIB_OBJS) $(SIM_OBJS) $(TEST_OBJS) \
             $(BENCH_OBJS) $(SAN_LIB) $(SAN_TEST)

.PHONY: all test unit unit-san e2e demo bench model install clean deps \
        check-deps fuzz fuzz-replay
.DEFAULT_GOAL := all

all: check-deps bin/svcscore bin/smartcar-sim

# A fresh machine: test and demo install what is missing first.
deps:
	$(Q)scripts/install-deps.sh

check-deps:
ifneq ($(DEPS_OK),yes)
	$(error missing libraries (libcurl, libcjson, gsl, sqlite3, libcsv, cunit, libmicrohttpd): run scripts/install-deps.sh or 'make deps')
endif

build/libsvcscore.a: $(LIB_OBJS)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

build/libcmd.a: $(CMD_OBJS)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

build/libsim.a: $(SIMLIB_OBJS)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

bin/svcscore: build/engine/cmd/main.o build/libcmd.a build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS) $(LDFLAGS)

bin/smartcar-sim: $(SIM_OBJS) build/libsim.a build/libcmd.a build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(MHD_LIBS) $(ZLIB_LIBS) $(LIBS) $(LDFLAGS)

bin/run_tests: $(TEST_OBJS) build/libsim.a build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(CUNIT_LIBS) $(LIBS) $(LDFLAGS)

# Benchmark programs (not unit tests): the parse-only baseline and the GLM.
bin/bench-parse: build/tests/bench/bench_parse.o
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS) $(LDFLAGS)

bin/bench-glm: build/tests/bench/bench_glm.o build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS) $(LDFLAGS)

bin/run_tests_san: $(SAN_TEST) $(SAN_LIB)
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(SANFLAGS) -o $@ $^ $(CUNIT_LIBS) $(LIBS) $(LDFLAGS)

build/%.o: %.c
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_ALL) $(SANFLAGS) -MMD -MP -c -o $@ $<

-include $(ALL_OBJS:.o=.d)

# Fuzzing (tests/fuzz/README.md): one libFuzzer target per parser of
# untrusted input, built with clang for 'make fuzz'; the same targets built
# with $(CC) and the sanitizers replay the committed corpus in 'make test'.
FUZZ_TARGETS := hist line veh model tok token envelope instant jscan gzip
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS   = $(CSTD) $(filter-out -Werror,$(WARN)) $(PKG_CFLAGS) \
                -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -O1 -g
FUZZ_LIB     := $(LIB_SRCS:%.c=build/fuzz/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=bin/fuzz-%)
REPLAY_BINS  := $(FUZZ_TARGETS:%=bin/fuzz-replay-%)
FUZZ_OBJS    := $(FUZZ_LIB) $(FUZZ_TARGETS:%=build/fuzz/tests/fuzz/fuzz_%.o) \
                build/fuzz/tests/fuzz/fuzz_util.o \
                $(FUZZ_TARGETS:%=build/san/tests/fuzz/fuzz_%.o) \
                build/san/tests/fuzz/fuzz_util.o build/san/tests/fuzz/replay.o

build/fuzz/%.o: %.c
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	  -MMD -MP -c -o $@ $<

$(FUZZ_BINS): bin/fuzz-%: build/fuzz/tests/fuzz/fuzz_%.o \
              build/fuzz/tests/fuzz/fuzz_util.o $(FUZZ_LIB)
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

$(REPLAY_BINS): bin/fuzz-replay-%: build/san/tests/fuzz/fuzz_%.o \
                build/san/tests/fuzz/fuzz_util.o \
                build/san/tests/fuzz/replay.o $(SAN_LIB)
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(SANFLAGS) -o $@ $^ $(LIBS) $(LDFLAGS)

-include $(FUZZ_OBJS:.o=.d)

# The test target installs missing libraries itself (fresh machine), then
# re-enters make so the pkg-config flags are read with the libraries present.
# Each part of TEST_PARTS runs under tests/logged.sh (its output also goes to
# build/test-logs/PART.log) and ends its log with a CUnit run summary or a
# line "[WORD: ]N passed, N failed"; all parts run even when one fails, and
# tests/summary.sh closes with one line counting them all.  SUITES=... runs
# only those CUnit suites in unit and unit-san (bin/run_tests --list).
TEST_PARTS = unit unit-san fuzz-replay e2e
TEST_LOGS  = build/test-logs
SUITES    ?=

test:
	$(Q)scripts/install-deps.sh --if-missing
	$(Q)rm -rf $(TEST_LOGS)
	$(Q)rc=0; $(MAKE) --no-print-directory -k $(TEST_PARTS) || rc=1; \
	  tests/summary.sh $(TEST_LOGS) $(TEST_PARTS) || rc=1; exit $$rc

unit: check-deps bin/run_tests bin/smartcar-sim
	$(Q)cd tests && ./logged.sh ../$(TEST_LOGS)/unit ../bin/run_tests $(SUITES)

unit-san: check-deps bin/run_tests_san bin/smartcar-sim
	$(Q)cd tests && ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=lsan.supp \
	  ./logged.sh ../$(TEST_LOGS)/unit-san ../bin/run_tests_san $(SUITES)

# Every committed fuzz input through the sanitizer build (no clang needed).
fuzz-replay: check-deps $(REPLAY_BINS)
	$(Q)tests/logged.sh $(TEST_LOGS)/fuzz-replay \
	  tests/fuzz/replay.sh $(FUZZ_TARGETS)

# New inputs go to build/fuzz/found/TARGET (not committed), crashes to
# build/fuzz/crash/; FUZZ_TARGETS=hist runs one target.
fuzz:
	$(Q)scripts/install-deps.sh --if-missing --fuzz
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/found/$$t build/fuzz/crash; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  bin/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/crash/$$t- \
	    build/fuzz/found/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

e2e: all
	$(Q)tests/logged.sh $(TEST_LOGS)/e2e tests/e2e.sh

demo:
	$(Q)scripts/install-deps.sh --if-missing
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench:
	$(Q)scripts/install-deps.sh --if-missing --bench
	$(Q)$(MAKE) --no-print-directory all bin/bench-parse
	$(Q)scripts/bench.sh

model: all
	$(Q)scripts/make-model.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/svcscore/models \
	    $(DESTDIR)$(PREFIX)/share/svcscore/data
	install -m 755 bin/svcscore bin/smartcar-sim $(DESTDIR)$(PREFIX)/bin/
	install -m 644 models/*.json $(DESTDIR)$(PREFIX)/share/svcscore/models/
	install -m 644 data/*.tsv $(DESTDIR)$(PREFIX)/share/svcscore/data/

clean:
	rm -rf build bin
